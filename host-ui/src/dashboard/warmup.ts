/**
 * Starts loading the widgets on the user's dashboard — evaluating their remote entries and
 * modules — as soon as the boot answers index.html asked for (who the user is, the manifest,
 * the layout) are in, before React has rendered the shell. Without it the first widget module
 * is asked for only once the shell, the session and the grid have rendered, a few hundred
 * milliseconds of main thread later. Loads are shared with WidgetHost through loadWidget's
 * cache, so nothing is fetched twice.
 *
 * The chart library is downloaded by index.html but evaluated later (DashboardPage, once the
 * widgets have sent their data requests): its evaluation is the longest single task of the
 * page, and run here it would hold the widgets' data requests back.
 */
import type { Role } from '@orrery/plugin-sdk/frontend';
import { newId } from '../lib/ids.ts';
import { catalogueFor, loadWidget, registerPluginRemotes, type PluginManifest } from '../lib/plugins.ts';
import { builtinDefault, type DashboardDoc } from './layout.ts';

type BootAnswers = [{ role: Role } | null, { plugins: PluginManifest[] } | null, { doc: DashboardDoc | null } | null];

export function warmDashboardWidgets(): void {
  const boot = (window as { __orreryBoot?: { dashboard?: Promise<BootAnswers> } }).__orreryBoot;
  boot?.dashboard?.then(([me, manifest, mine]) => {
    if (!me || !manifest || !mine) return;
    registerPluginRemotes(manifest.plugins);
    const catalogue = catalogueFor(manifest.plugins, me.role);
    // the same layout DashboardPage will show: the saved one, else the role's suggestion
    const doc = mine.doc ?? builtinDefault(catalogue, newId, 8, me.role);
    const byRef = new Map(catalogue.map((e) => [e.ref, e]));
    const entries = doc.items.flatMap((i) => byRef.get(i.ref) ?? []);
    for (const e of entries) loadWidget(e.plugin, e.widget.id).catch(() => undefined); // WidgetHost shows the error
  }).catch(() => undefined);
}

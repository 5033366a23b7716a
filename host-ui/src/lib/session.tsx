/**
 * The signed-in context every page reads: who, which org and department, the shared time
 * range, the user's zone and locale, the plugin manifest and the realtime connection.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { Role, TimeRange } from '@orrery/plugin-sdk/frontend';
import { api, ApiError } from './api.ts';
import { RealtimeHub, type RealtimeStatus } from './realtime.ts';
import { catalogueFor, registerPluginRemotes, type CatalogueEntry, type PluginManifest } from './plugins.ts';
import { resolvePreset } from './time.ts';

export interface Me {
  user: { id: string; email: string; display_name: string };
  org: { id: string; slug: string; name: string };
  role: Role;
  departments: Array<{ id: string; name: string; manager: boolean }>;
  orgs: Array<{ slug: string; name: string }>;
}

export interface Prefs { tz: string; locale: string }

/** The chosen range: a preset (re-resolved as time passes) or fixed instants. */
export type RangeChoice = { preset: string } | { from: string; to: string };

interface Session {
  me: Me;
  plugins: PluginManifest[];
  /** false until the manifest has answered once */
  pluginsLoaded: boolean;
  sdkVersion: string | null;
  catalogue: CatalogueEntry[];
  reloadPlugins(): Promise<void>;
  departmentId: string | null;
  setDepartmentId(id: string | null): void;
  range: RangeChoice;
  setRange(r: RangeChoice): void;
  /** the range as instants; presets resolve against the current minute */
  resolveRange(choice?: RangeChoice | string): TimeRange;
  prefs: Prefs;
  setPrefs(p: Prefs): void;
  hub: RealtimeHub;
  logout(): void;
}

const Ctx = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

const PREFS_KEY = 'orrery.prefs';
const RANGE_KEY = 'orrery.range';
const DEPT_KEY = 'orrery.department';

function loadPrefs(): Prefs {
  const dflt = { tz: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', locale: navigator.language || 'en-US' };
  try { return { ...dflt, ...JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') }; } catch { return dflt; }
}

function loadRange(): RangeChoice {
  try {
    const r = JSON.parse(sessionStorage.getItem(RANGE_KEY) ?? 'null') as RangeChoice | null;
    if (r && ('preset' in r || ('from' in r && 'to' in r))) return r;
  } catch { /* fall through to the default */ }
  return { preset: '7d' };
}

const hub = new RealtimeHub(api);
const subscribeStatus = (cb: () => void) => hub.onStatus(cb);
const statusNow = () => hub.status;

/**
 * The realtime connection's state, for the few places that show it. Kept out of the session
 * value on purpose: the connection going from connecting to live would otherwise re-render
 * every page and widget that reads the session (the whole grid, a second time, while the
 * dashboard loads).
 */
export function useRealtimeStatus(): RealtimeStatus {
  return useSyncExternalStore(subscribeStatus, statusNow);
}

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }) {
  const [plugins, setPlugins] = useState<PluginManifest[]>([]);
  const [pluginsLoaded, setPluginsLoaded] = useState(false);
  const [sdkVersion, setSdkVersion] = useState<string | null>(null);
  const [departmentId, setDept] = useState<string | null>(() => sessionStorage.getItem(DEPT_KEY) || null);
  const [range, setRangeState] = useState<RangeChoice>(loadRange);
  const [prefs, setPrefsState] = useState<Prefs>(loadPrefs);
  const [tick, setTick] = useState(0);

  const reloadPlugins = useCallback(async () => {
    const res = await api.get<{ plugins: PluginManifest[]; sdkVersion?: string }>('/api/v1/plugins');
    registerPluginRemotes(res.plugins);
    setPlugins(res.plugins);
    setSdkVersion(res.sdkVersion ?? null);
    setPluginsLoaded(true);
  }, []);

  useEffect(() => {
    void reloadPlugins().catch((e) => {
      console.error('plugin manifest', e);
      setPluginsLoaded(true); // show the page (empty catalogue) rather than spin forever
    });
  }, [reloadPlugins]);

  useEffect(() => {
    hub.start();
    return () => hub.stop();
  }, []);

  // presets move with the clock: re-resolve every minute so "last hour" stays the last hour
  useEffect(() => {
    const t = setInterval(() => setTick((x) => x + 1), 60_000);
    return () => clearInterval(t);
  }, []);

  // a department the user no longer belongs to (or from another org) is dropped
  const validDept = departmentId && me.departments.some((d) => d.id === departmentId) ? departmentId : null;

  // stable while the manifest is: widgets' contexts (and so their data requests) key on it
  const catalogue = useMemo(() => catalogueFor(plugins, me.role), [plugins, me.role]);

  const value = useMemo<Session>(() => ({
    me,
    plugins,
    pluginsLoaded,
    sdkVersion,
    catalogue,
    reloadPlugins,
    departmentId: validDept,
    setDepartmentId: (id) => { setDept(id); if (id) sessionStorage.setItem(DEPT_KEY, id); else sessionStorage.removeItem(DEPT_KEY); },
    range,
    setRange: (r) => { setRangeState(r); sessionStorage.setItem(RANGE_KEY, JSON.stringify(r)); },
    resolveRange: (choice = range) => {
      const c = typeof choice === 'string' ? { preset: choice } : choice;
      return 'preset' in c ? resolvePreset(c.preset, new Date(), prefs.tz) : { from: c.from, to: c.to };
    },
    prefs,
    setPrefs: (p) => { setPrefsState(p); localStorage.setItem(PREFS_KEY, JSON.stringify(p)); },
    hub,
    logout: () => { hub.stop(); api.logout(); },
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }), [me, plugins, catalogue, pluginsLoaded, sdkVersion, reloadPlugins, validDept, range, prefs, tick]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export async function fetchMe(): Promise<Me | null> {
  try {
    return await api.get<Me>('/api/v1/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

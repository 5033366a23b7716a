import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PageDecl, PluginDeclaration, WidgetDecl } from '@orrery/plugin-sdk';
import { exposesOf } from '../../../plugin-sdk/build/remote.mjs';

const PLUGINS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../plugins');
const withWidgets = readdirSync(PLUGINS).filter((id) => existsSync(join(PLUGINS, id, 'frontend/rspack.config.mjs'))).sort();

describe('one declaration per widget', () => {
  it('is used by every first-party plugin with widgets', () => {
    expect(withWidgets.length).toBeGreaterThan(0);
    for (const id of withWidgets) expect(existsSync(join(PLUGINS, id, 'widgets.ts')), id).toBe(true);
  });

  for (const id of withWidgets) {
    it(`${id}: the manifest lists it, the remote exposes its module, the widget reads version and defaults from it`, async () => {
      const root = join(PLUGINS, id);
      const { widgets, pages = [] } = (await import(pathToFileURL(join(root, 'widgets.ts')).href)) as { widgets: WidgetDecl[]; pages?: PageDecl[] };
      const plugin = (await import(pathToFileURL(join(root, 'backend/index.ts')).href)).default as PluginDeclaration;
      expect(plugin.frontend!.widgets).toBe(widgets);
      // pages are declared in the same file and reach the manifest from there
      expect(plugin.frontend!.pages ?? []).toEqual(pages);
      expect(readFileSync(join(root, 'frontend/rspack.config.mjs'), 'utf8')).toMatch(/widgets: '\.\.\/widgets\.ts'/);
      expect(Object.keys(exposesOf(join(root, 'widgets.ts')))).toEqual([...widgets.map((w) => `./${w.id}`), ...pages.map((p) => `./pages/${p.id}`)]);
      for (const w of [...widgets, ...pages]) {
        const file = join(root, 'frontend', w.module!);
        expect(existsSync(file), w.module).toBe(true);
        const src = readFileSync(file, 'utf8');
        // the module names its own declaration; no second options version, no schema default again
        expect(src, w.id).toMatch(/defineWidget(<\w+>)?\(\{ component: \w+, declaration: \w+(, defaults: \{[^}]*\})? \}\)/);
        expect(src, w.id).not.toMatch(/optionsVersion:/);
        const extra = /defaults: \{([^}]*)\}/.exec(src)?.[1] ?? '';
        const props = ((w.optionsSchema as any)?.properties ?? {}) as Record<string, { default?: unknown }>;
        for (const [key, p] of Object.entries(props)) if (p.default !== undefined) expect(extra, `${w.id}.${key}`).not.toMatch(new RegExp(`\\b${key}:`));
      }
    });
  }
});

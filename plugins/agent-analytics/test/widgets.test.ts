import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exposesOf } from '../../../plugin-sdk/build/remote.mjs';
import plugin from '../backend/index.ts';
import { widgets } from '../widgets.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('one declaration per widget', () => {
  it('is what the manifest lists and what the remote build exposes', () => {
    expect(plugin.frontend!.widgets).toBe(widgets);
    const exposes = exposesOf(join(ROOT, 'widgets.ts'));
    expect(Object.keys(exposes)).toEqual(widgets.map((w) => `./${w.id}`));
    for (const w of widgets) expect(existsSync(join(ROOT, 'frontend', w.module!)), w.module).toBe(true);
  });

  it("is what each exposed module's defineWidget reads its version and defaults from", () => {
    for (const w of widgets) {
      const src = readFileSync(join(ROOT, 'frontend', w.module!), 'utf8');
      // the module names its own declaration, and no second options version or schema default
      expect(src, w.id).toMatch(/defineWidget<\w+>\(\{ component: \w+, declaration: \w+(, defaults: \{[^}]*\})? \}\)/);
      expect(src, w.id).not.toMatch(/optionsVersion:/);
      const extra = /defaults: \{([^}]*)\}/.exec(src)?.[1] ?? '';
      for (const key of Object.keys((w.optionsSchema as any)?.properties ?? {})) {
        if ((w.optionsSchema as any).properties[key].default !== undefined) expect(extra, `${w.id}.${key}`).not.toMatch(new RegExp(`\\b${key}:`));
      }
    }
  });
});

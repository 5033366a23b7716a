/**
 * `env.onDemoData`: after the demo events, each running plugin enabled for the org seeds its own
 * examples with the org's context; a plugin that is off for the org is left out, and one whose
 * seeder fails is reported and logged without stopping the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, type PluginDeclaration } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { checkDeclaration } from '../src/plugins/loader.ts';

const calls: Array<{ plugin: string; org: string; from: string; to: string }> = [];
const seeding = (id: string, opts: { fail?: boolean; enabledByDefault?: boolean } = {}): PluginDeclaration =>
  definePlugin({
    id,
    version: '1.0.0',
    sdk: '^2.1.0',
    title: id,
    description: 'a plugin with a demo seeder',
    routePrefix: id,
    permissions: {},
    enabledByDefault: opts.enabledByDefault,
    register(env) {
      env.onDemoData({
        description: `${id}'s example`,
        async run(ctx, span) {
          calls.push({ plugin: id, org: ctx.org.id, from: span.from.toISOString(), to: span.to.toISOString() });
          if (opts.fail) throw new Error(`${id} cannot seed`);
        },
      });
    },
  });

describe('demo data seeders', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [seeding('seeds-a'), seeding('seeds-broken', { fail: true }), seeding('seeds-off', { enabledByDefault: false }), seeding('seeds-b')] });
  });
  afterAll(() => b.close());

  it("runs every enabled plugin's seeder once with the org and the span, past a failing one", async () => {
    const span = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
    const other = await b.createOrg('seed-other');
    const result = await b.seedDemoData(span);
    expect(result).toEqual([
      { plugin: 'seeds-a', description: "seeds-a's example", ok: true },
      { plugin: 'seeds-broken', description: "seeds-broken's example", ok: false },
      { plugin: 'seeds-b', description: "seeds-b's example", ok: true },
    ]);
    // the default org only, not the other one; the plugin that is off for the org not at all
    expect(calls).toEqual(['seeds-a', 'seeds-broken', 'seeds-b'].map((plugin) => ({ plugin, org: b.org.id, from: span.from.toISOString(), to: span.to.toISOString() })));
    expect(calls.some((c) => c.org === other.id)).toBe(false);
    expect(b.logs.some((l) => l.includes('seeds-broken cannot seed') && l.includes('demo data'))).toBe(true);
  });

  it('refuses a seeder without a description or run', () => {
    const bad = definePlugin({ id: 'seeds-bad', version: '1.0.0', sdk: '^2.1.0', title: 'bad', description: 'x', routePrefix: 'seeds-bad', permissions: {}, register: (env) => env.onDemoData({ description: '', run: undefined as never }) });
    expect(() => checkDeclaration(bad, 'test', { ids: new Set(), prefixes: new Map() })).toThrow(/onDemoData\[0\]: description and run are required/);
    expect(checkDeclaration(seeding('seeds-good'), 'test', { ids: new Set(), prefixes: new Map() }).demoSeeders).toHaveLength(1);
  });
});

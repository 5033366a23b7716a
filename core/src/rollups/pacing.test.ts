/**
 * The fold's schedule and its shared first step: one count per source table for every rollup
 * (different filters, different watermarks), and the spacing of folds under sustained traffic
 * within the lag bound. Counts are checked against a brute-force count of the events the test
 * sent, per agent, never against the kernel's SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import { defineRollup, definePlugin, rollupDdl, type RollupDecl } from '@orrery/plugin-sdk';
import { RollupService } from './service.ts';

const perAgent = (name: string, type: string) =>
  defineRollup({
    name,
    source: 'events',
    filter: `event_type = '${type}'`,
    dimensions: ['agent_name'],
    measures: [{ name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' }],
    tables: [
      { table: `pace_${name}_1m`, grain: 'minute', dims: ['agent_name'] },
      { table: `pace_${name}_1d`, grain: 'day', dims: ['agent_name'], from: `pace_${name}_1m` },
    ],
  });
const CALLS = perAgent('calls', 'agent_invocation');
const TOOLS = perAgent('tools', 'tool_call');

const probe = definePlugin({
  id: 'pace-probe',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'Pacing probe',
  description: 'two rollups of one source with different filters',
  routePrefix: 'pace-probe',
  permissions: {},
  migrations: { clickhouse: [{ name: '0001', statements: [...rollupDdl(CALLS), ...rollupDdl(TOOLS)] }] },
  rollups: [CALLS, TOOLS],
  register() {},
});

describe('fold pacing', () => {
  const fake = (marks: number[], opts: Partial<{ everySeconds: number; maxLagMs: number }> = {}) => {
    const decls = marks.map((_, i) => ({ plugin: 'p', decl: { ...CALLS, name: `r${i}` } as RollupDecl }));
    const svc = new RollupService({ analytics: null as never, knex: null as never, logger: null as never, declarations: () => decls }, { graceMs: 2000, everySeconds: 2, maxRowsPerFold: 1000, maxLagMs: 5000, ...opts });
    const m = (svc as unknown as { marks: Map<string, number> }).marks;
    marks.forEach((w, i) => m.set(`p/r${i}`, w));
    return svc;
  };

  it('keeps the plain period when quiet, spaces folds out under traffic within the lag bound, never sooner than the period', () => {
    const r = rng(7);
    for (let k = 0; k < 200; k++) {
      const now = 1_000_000_000 + Math.floor(r() * 1e6);
      const marks = Array.from({ length: 1 + Math.floor(r() * 4) }, () => now - Math.floor(r() * 8000));
      const durations = Array.from({ length: 1 + Math.floor(r() * 7) }, () => Math.floor(r() * 3000));
      const svc = fake(marks);
      let delay = 0;
      for (const d of durations) delay = svc.nextFoldDelay(d, 100, now);
      // the status route's fold durations: every fold that took rows, and only those
      expect(svc.foldDurationsMs).toEqual(durations);
      const quiet = fake(marks);
      quiet.nextFoldDelay(durations[0]!, 0, now);
      expect(quiet.foldDurationsMs).toEqual([]);
      // brute force: the last five durations, the lowest watermark
      const slowest = Math.max(...durations.slice(-5));
      // the plain period runs from one fold's start to the next
      const plain = Math.max(0, 2000 - durations.at(-1)!);
      const expected = Math.max(plain, Math.min(5000, Math.min(...marks) + 5000 - 1.5 * slowest - now));
      expect(delay).toBe(expected);
      // spaced out: the next fold, if it takes no longer than the slowest recent one, ends before the watermark is 5 s old
      if (expected > plain) expect(now + delay + slowest).toBeLessThanOrEqual(Math.min(...marks) + 5000);
      // never later than the plain period would start it
      expect(delay).toBeGreaterThanOrEqual(plain);
      expect(fake(marks).nextFoldDelay(slowest, 0, now)).toBe(Math.max(0, 2000 - slowest));
      expect(fake(marks, { maxLagMs: 0 }).nextFoldDelay(slowest, 100, now)).toBe(Math.max(0, 2000 - slowest));
    }
  });

  describe('one count for every rollup of a source', () => {
    let b: TestBackend;
    const sent: Array<{ event_type: string; agent_name: string }> = [];
    let serial = 0;
    const send = async (seed: number, count: number, types: string[]) => {
      const r = rng(seed);
      const evs = Array.from({ length: count }, () => ({
        event_id: `p${seed}-${serial++}`,
        event_type: types[Math.floor(r() * types.length)]!,
        timestamp: new Date(Date.UTC(2026, 2, 1) + Math.floor(r() * 3 * 86_400_000)).toISOString(),
        user_id: `u${Math.floor(r() * 5)}`,
        agent_name: `a${Math.floor(r() * 4)}`,
      }));
      sent.push(...evs);
      await b.org.insertEvents(evs);
    };
    const stored = async (table: string) => {
      const { client, database } = b.kernel.services.analytics;
      const rs = await client.query({ query: `SELECT agent_name, toUInt64(sum(n)) AS n FROM ${database}.${table} WHERE org_id = {o:String} GROUP BY agent_name ORDER BY agent_name`, query_params: { o: b.org.id }, format: 'JSONEachRow' });
      return ((await rs.json()) as Array<{ agent_name: string; n: string }>).map((x) => ({ agent_name: x.agent_name, n: Number(x.n) }));
    };
    const expected = (type: string) => {
      const by = new Map<string, number>();
      for (const e of sent) if (e.event_type === type) by.set(e.agent_name, (by.get(e.agent_name) ?? 0) + 1);
      return [...by].sort(([a], [c]) => (a < c ? -1 : 1)).map(([agent_name, n]) => ({ agent_name, n }));
    };
    const exact = async () => {
      for (const t of ['pace_calls_1m', 'pace_calls_1d']) expect(await stored(t), t).toEqual(expected('agent_invocation'));
      for (const t of ['pace_tools_1m', 'pace_tools_1d']) expect(await stored(t), t).toEqual(expected('tool_call'));
    };

    beforeAll(async () => {
      b = await startTestBackend({ plugins: [probe] });
    });
    afterAll(() => b?.close());

    it('folds each rollup exactly, with new rows for one filter only and with watermarks apart', async () => {
      await send(1, 400, ['agent_invocation', 'tool_call', 'feature_use']);
      let r = await b.foldRollups();
      expect(r.filter((x) => x.plugin === 'pace-probe').reduce((n, x) => n + x.rows, 0)).toBe(sent.filter((e) => e.event_type !== 'feature_use').length);
      await exact();
      // rows for one rollup's filter only: the other folds nothing
      await send(2, 150, ['tool_call']);
      r = await b.foldRollups();
      expect(r.find((x) => x.rollup === 'calls')!.rows).toBe(0);
      expect(r.find((x) => x.rollup === 'tools')!.rows).toBe(150);
      await exact();
      // the ledger moved back for one rollup behind this node's back (its rows gone with it): the
      // shared count no longer matches its watermark and the fold takes the window on its own
      const { client, database } = b.kernel.services.analytics;
      for (const t of ['pace_calls_1m', 'pace_calls_1d']) await client.command({ query: `TRUNCATE TABLE ${database}.${t}` });
      await b.kernel.services.knex.withSchema('public').table('rollup_watermarks').where({ plugin_id: 'pace-probe', rollup: 'calls' }).update({ watermark_ms: 0 });
      // (new rows for the other filter only: counted from this node's watermark, it would find none)
      await send(3, 200, ['tool_call']);
      r = await b.foldRollups();
      expect(r.find((x) => x.rollup === 'calls')!.rows).toBe(sent.filter((e) => e.event_type === 'agent_invocation').length);
      await exact();
      expect((await b.foldRollups()).filter((x) => x.plugin === 'pace-probe').reduce((n, x) => n + x.rows, 0)).toBe(0);
    });
  });
});

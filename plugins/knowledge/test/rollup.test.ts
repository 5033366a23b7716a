/**
 * The invocation rollup behind `artifacts/top` (follow-ups) and `transfer`: the planned read
 * (rollup up to the watermark, raw events inserted after it) gives the same answers as raw
 * events alone and as the brute-force reference, on random data in several orgs, whatever
 * the fold has reached: before any fold (every row read raw), after a fold with later and
 * late events still raw, and after everything is folded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { invocationCodesMigration, invocationPairsMigration } from '../backend/invocations.ts';
import * as ref from './reference.ts';

const { START, DAY, HOUR } = ref;
const WEEK = 7 * DAY;
const SEEDS = [3, 42];
const USERS: Record<string, string> = { 'u-1': 'd-eng', 'u-2': 'd-eng', 'u-3': 'd-sales', 'u-4': 'd-sales', 'u-5': 'd-ops', 'u-6': 'd-ops', 'u-7': 'd-data' };

/** random ranges whose edges cut through days, hours and seconds */
function ranges(seed: number): Array<[number, number]> {
  const r = ref.rng(seed * 7 + 1);
  const out: Array<[number, number]> = [[START - 40 * DAY, START + 60 * DAY]];
  for (let i = 0; i < 2; i++) {
    const from = START - DAY + Math.floor(r() * 8 * DAY);
    out.push([from, from + HOUR + Math.floor(r() * 6 * DAY)]);
  }
  return out;
}
/**
 * Invocations of each first cross-department reuser on the edges the rollup's call codes
 * (milliseconds into the hour × 2 + success) must tell apart: exactly at each window bound of
 * 1 and 2 weeks and at the first reuse, a millisecond either side, and at the first and the
 * last millisecond of each bound's hour; successes and failures alike.
 */
function boundaryCalls(evs: ref.Ev[], seed: number): ref.Ev[] {
  const r = ref.rng(seed + 77);
  const out: ref.Ev[] = [];
  for (const f of ref.firstCrossDepartmentReuses(evs)) {
    for (const bound of [f.at, f.at - WEEK, f.at + WEEK, f.at - 2 * WEEK, f.at + 2 * WEEK]) {
      const hour = bound - (bound % HOUR);
      for (const at of [bound - 1, bound, bound + 1, hour, hour + HOUR - 1]) {
        if (r() < 0.5) continue;
        out.push({
          event_id: `edge-${seed}-${out.length}`, event_type: 'agent_invocation', timestamp: new Date(at).toISOString(), user_id: f.reuser,
          department_id: USERS[f.reuser]!, session_id: `s-${f.reuser}`, agent_name: 'coder', status: r() < 0.5 ? 'success' : 'failure', invocation_id: `edge-${seed}-${out.length}`,
        });
      }
    }
  }
  return out;
}
const q = ([from, to]: [number, number], extra: Record<string, unknown> = {}) => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...extra });
type Top = ReturnType<typeof ref.topArtifacts>[number];
const byValue = (a: Top, b: Top) => b.successful_reuses - a.successful_reuses || b.reuses - a.reuses || (a.artifact_id < b.artifact_id ? -1 : 1);

describe('knowledge invocation rollup', () => {
  let b: TestBackend;
  const orgs = new Map<number, { org: TestOrg; first: ref.Ev[]; later: ref.Ev[] }>();

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin] });
    for (const seed of SEEDS) {
      const all = ref.generate(seed, USERS, { artifacts: 60, days: 8, prefix: `s${seed}` });
      all.push(...boundaryCalls(all, seed));
      // a random half arrives later; its timestamps are anywhere in the data (late events too)
      const r = ref.rng(seed + 1000);
      const first: ref.Ev[] = [];
      const later: ref.Ev[] = [];
      for (const e of all) (r() < 0.5 ? first : later).push(e);
      const org = seed === SEEDS[0] ? b.org : await b.createOrg(`knowledge-rollup-${seed}`);
      orgs.set(seed, { org, first, later });
    }
  });
  afterAll(() => b?.close());

  /** every org's artifacts/top (by successful reuses) and transfer against the reference over `evs` */
  async function check(stage: string, events: (o: { first: ref.Ev[]; later: ref.Ev[] }) => ref.Ev[]) {
    for (const seed of SEEDS) {
      const o = orgs.get(seed)!;
      const evs = events(o);
      for (const r of ranges(seed)) {
        const top = await o.org.client.get('/api/v1/knowledge/artifacts/top', q(r, { sort: 'successful_reuses', limit: 500 }));
        expect(top.status).toBe(200);
        expect(top.body.artifacts, `${stage} seed ${seed} top ${r}`).toEqual(ref.topArtifacts(evs, ...r).sort(byValue));
        for (const weeks of [1, 2]) {
          const res = await o.org.client.get('/api/v1/knowledge/transfer', q(r, { weeks }));
          expect(res.status).toBe(200);
          const want = ref.transfer(evs, r[0], r[1], weeks);
          expect(res.body.departments.map((d: any) => d.from_department_id).sort(), `${stage} seed ${seed} transfer ${r}`).toEqual([...want.keys()].sort());
          for (const d of res.body.departments) {
            const w = want.get(d.from_department_id)!;
            expect(d, `${stage} seed ${seed} transfer ${r} ${weeks}w`).toMatchObject({
              reusers: w.reusers, reusers_with_both: w.reusers_with_both, invocations_before: w.invocations_before, invocations_after: w.invocations_after,
            });
            for (const k of ['success_rate_before', 'success_rate_after'] as const) {
              if (w[k] === null) expect(d[k]).toBeNull();
              else expect(d[k]).toBeCloseTo(w[k]!, 12);
            }
          }
        }
      }
    }
  }

  // the stages run in order, each on what the one before left
  const SLOW = 300_000;
  it('before any fold every row is read raw: == brute force', async () => {
    for (const o of orgs.values()) await o.org.insertEvents(o.first as any);
    await check('raw', (o) => o.first);
  }, SLOW);

  it('after a fold the rollup answers: == brute force', async () => {
    const folded = await b.foldRollups();
    const mine = folded.filter((f) => f.plugin === 'knowledge' && f.rollup === 'invocation_hours');
    expect(mine.reduce((n, f) => n + f.rows, 0)).toBe([...orgs.values()].reduce((n, o) => n + o.first.filter((e) => e.event_type === 'agent_invocation').length, 0));
    await check('rollup', (o) => o.first);
  }, SLOW);

  it('rollup + the raw rows inserted after the watermark (later and late events): == brute force', async () => {
    for (const o of orgs.values()) await o.org.insertEvents(o.later as any);
    await check('rollup + tail', (o) => [...o.first, ...o.later]);
  }, SLOW);

  it('everything folded: == brute force', async () => {
    for (let n = -1; n !== 0; ) n = (await b.foldRollups()).filter((f) => f.plugin === 'knowledge').reduce((x, f) => x + f.rows, 0);
    await check('rollup after the late events', (o) => [...o.first, ...o.later]);
  }, SLOW);

  it('a table made before the call codes (and before the plain pairs) gets them from the aggregate states by migrations 0004 and 0005: == brute force', async () => {
    const ch = b.kernel.services.analytics;
    const sql = (x: string) => x.replaceAll('{db}', ch.database).replaceAll('{cluster}', '');
    // the fold writes neither column any more on a new table's rows: 0004 fills the pairs from `calls`, 0005 the codes from the pairs
    for (const column of ['call_codes', 'call_pairs'])
      await ch.client.command({ query: sql(`ALTER TABLE {db}.knowledge_invocation_hours DROP COLUMN IF EXISTS ${column} SETTINGS mutations_sync = 2`) });
    for (const m of [invocationPairsMigration, invocationCodesMigration]) for (const statement of m.statements) await ch.client.command({ query: sql(statement) });
    await check('after migrations 0004 and 0005', (o) => [...o.first, ...o.later]);
  }, SLOW);

  it('the data exercises the cut hours: follow-ups in the same and the next hour, and first reuses inside hours', () => {
    for (const seed of SEEDS) {
      const evs = [...orgs.get(seed)!.first, ...orgs.get(seed)!.later];
      const top = ref.topArtifacts(evs, START - 40 * DAY, START + 60 * DAY);
      expect(top.some((a) => a.successful_reuses > 0 && a.successful_reuses < a.reuses)).toBe(true);
      expect([...ref.transfer(evs, START - 40 * DAY, START + 60 * DAY, 1).values()].some((d) => d.invocations_before > 0 && d.invocations_after > 0)).toBe(true);
      expect(evs.filter((e) => e.event_id.startsWith('edge-')).length).toBeGreaterThan(50);
    }
  });
});

/**
 * `artifacts/top` reads the artifact rollup's hour rows for the whole hours of the range (raw
 * events for its edges and for the rows inserted after the watermark) and each artifact's author
 * from the month table. Here the data crosses a month boundary (April 29 – May 7): ranges inside
 * one month, starting or ending on the boundary, and crossing it with edges that cut through
 * hours. Two orgs hold the same artifact, user and department ids with different events. Equal to
 * the brute-force reference at every stage of the fold: raw, a random half folded, the other half
 * (later and late events) read raw after the watermark, everything folded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import * as ref from './reference.ts';

const { DAY, HOUR } = ref;
const SHIFT = 5 * DAY;
const MAY = Date.parse('2026-05-01T00:00:00.000Z');
const USERS: Record<string, string> = { 'u-1': 'd-eng', 'u-2': 'd-eng', 'u-3': 'd-sales', 'u-4': 'd-sales', 'u-5': 'd-ops', 'u-6': 'd-ops' };
const RANGES: Array<[number, number]> = [
  [MAY - 30 * DAY, MAY + 30 * DAY],
  [MAY - 2 * DAY - 3 * HOUR - 4_321, MAY],
  [MAY, MAY + 2 * DAY + 5 * HOUR + 17],
  [MAY - DAY + 7 * HOUR + 12_345, MAY + 3 * DAY - 2 * HOUR - 999],
  [MAY - 3 * DAY, MAY - 2 * DAY + HOUR],
  [MAY + 3 * DAY + 30 * 60_000, MAY + 4 * DAY],
];
const q = ([from, to]: [number, number], extra: Record<string, unknown> = {}) => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...extra });
type Top = ReturnType<typeof ref.topArtifacts>[number];
const KEY = { reusers: 'reusers', departments: 'departments_reached', successful_reuses: 'successful_reuses', reuses: 'reuses' } as const;
const sortBy = (k: keyof typeof KEY) => (a: Top, b: Top) => b[KEY[k]] - a[KEY[k]] || b.reuses - a.reuses || (a.artifact_id < b.artifact_id ? -1 : 1);
/** the generator's events moved `SHIFT` earlier: they start five days before May */
const shifted = (evs: ref.Ev[]) => evs.map((e) => ({ ...e, timestamp: new Date(Date.parse(e.timestamp) - SHIFT).toISOString() }));

describe('knowledge artifacts/top across a month boundary', () => {
  let b: TestBackend;
  const orgs: Array<{ org: TestOrg; first: ref.Ev[]; later: ref.Ev[] }> = [];

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin] });
    for (const seed of [7, 8]) {
      // the same prefix: both orgs have the same artifact ids
      const all = shifted(ref.generate(seed, USERS, { artifacts: 40, days: 8, prefix: 'mb' }));
      const r = ref.rng(seed + 500);
      const first: ref.Ev[] = [];
      const later: ref.Ev[] = [];
      for (const e of all) (r() < 0.5 ? first : later).push(e);
      orgs.push({ org: seed === 7 ? b.org : await b.createOrg('knowledge-months'), first, later });
    }
  });
  afterAll(() => b?.close());

  async function check(stage: string, events: (o: { first: ref.Ev[]; later: ref.Ev[] }) => ref.Ev[]) {
    for (const [i, o] of orgs.entries()) {
      const evs = events(o);
      for (const r of RANGES) {
        const want = ref.topArtifacts(evs, ...r);
        for (const sort of Object.keys(KEY) as Array<keyof typeof KEY>) {
          const res = await o.org.client.get('/api/v1/knowledge/artifacts/top', q(r, { sort, limit: 500 }));
          expect(res.status).toBe(200);
          expect(res.body.artifacts, `${stage} org ${i} top by ${sort} ${r}`).toEqual([...want].sort(sortBy(sort)));
        }
        const res = await o.org.client.get('/api/v1/knowledge/artifacts/top', q(r, { sort: 'reuses', limit: 500, artifact_type: 'snippet' }));
        expect(res.body.artifacts, `${stage} org ${i} top snippets ${r}`).toEqual(want.filter((x) => x.artifact_type === 'snippet').sort(sortBy('reuses')));
      }
    }
  }
  const foldAll = async () => {
    for (let n = -1; n !== 0; ) n = (await b.foldRollups()).filter((f) => f.plugin === 'knowledge').reduce((x, f) => x + f.rows, 0);
  };

  it('the data crosses the boundary: reuses by others on both sides of it, in both orgs', () => {
    for (const o of orgs) {
      const evs = [...o.first, ...o.later];
      expect(ref.topArtifacts(evs, MAY - 30 * DAY, MAY).length).toBeGreaterThan(0);
      expect(ref.topArtifacts(evs, MAY, MAY + 30 * DAY).length).toBeGreaterThan(0);
    }
  });

  const SLOW = 300_000;
  it('every row raw: == brute force', async () => {
    for (const o of orgs) await o.org.insertEvents(o.first as any);
    await check('raw', (o) => o.first);
  }, SLOW);

  it('folded, then later and late events read raw after the watermark: == brute force', async () => {
    await foldAll();
    await check('folded', (o) => o.first);
    for (const o of orgs) await o.org.insertEvents(o.later as any);
    await check('folded + tail', (o) => [...o.first, ...o.later]);
  }, SLOW);

  it('everything folded: == brute force', async () => {
    await foldAll();
    await check('all folded', (o) => [...o.first, ...o.later]);
  }, SLOW);
});

/**
 * The artifact rollup behind `artifacts/top` and `transfer` (authors, reuses in a range, first
 * reuses): equal to the brute-force reference when authorship changes across the watermark.
 * The reuses, the invocations and the later `created` events of each artifact are folded first;
 * then the earliest `created` events arrive late (read raw, after the watermark), which moves
 * artifacts to their true author, department, type and agent; then everything is folded.
 * Every sort and the agent / type filters of `artifacts/top`, over ranges cutting through hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import * as ref from './reference.ts';

const { START, DAY, HOUR } = ref;
const USERS: Record<string, string> = { 'u-1': 'd-eng', 'u-2': 'd-eng', 'u-3': 'd-sales', 'u-4': 'd-sales', 'u-5': 'd-ops', 'u-6': 'd-ops' };
const RANGES: Array<[number, number]> = [
  [START - 40 * DAY, START + 60 * DAY],
  [START + DAY + 7 * HOUR + 12_345, START + 5 * DAY - 2 * HOUR - 999],
];
const q = ([from, to]: [number, number], extra: Record<string, unknown> = {}) => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...extra });
type Top = ReturnType<typeof ref.topArtifacts>[number];
const KEY = { reusers: 'reusers', departments: 'departments_reached', successful_reuses: 'successful_reuses', reuses: 'reuses' } as const;
const sortBy = (k: keyof typeof KEY) => (a: Top, b: Top) => b[KEY[k]] - a[KEY[k]] || b.reuses - a.reuses || (a.artifact_id < b.artifact_id ? -1 : 1);

describe('knowledge artifact rollup', () => {
  let b: TestBackend;
  const all = ref.generate(11, USERS, { artifacts: 50, days: 6, prefix: 'ar' });
  // each artifact's earliest `created` event arrives last
  const earliest = new Set([...ref.authors(all).values()].map((a) => all.find((e) => e.action === 'created' && e.artifact_id === a.id && Date.parse(e.timestamp) === a.created)!.event_id));
  const early = all.filter((e) => !earliest.has(e.event_id));
  const late = all.filter((e) => earliest.has(e.event_id));

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin] });
  });
  afterAll(() => b?.close());

  async function check(stage: string, evs: ref.Ev[]) {
    for (const r of RANGES) {
      for (const sort of Object.keys(KEY) as Array<keyof typeof KEY>) {
        const res = await b.org.client.get('/api/v1/knowledge/artifacts/top', q(r, { sort, limit: 500 }));
        expect(res.status).toBe(200);
        expect(res.body.artifacts, `${stage} top by ${sort} ${r}`).toEqual(ref.topArtifacts(evs, ...r).sort(sortBy(sort)));
      }
      for (const [param, field, value] of [['agent_name', 'agent_name', 'coder'], ['artifact_type', 'artifact_type', 'snippet']] as const) {
        const res = await b.org.client.get('/api/v1/knowledge/artifacts/top', q(r, { sort: 'reuses', limit: 500, [param]: value }));
        expect(res.body.artifacts, `${stage} top ${param} ${r}`).toEqual(ref.topArtifacts(evs, ...r).filter((x) => x[field] === value).sort(sortBy('reuses')));
      }
      const res = await b.org.client.get('/api/v1/knowledge/transfer', q(r, { weeks: 1 }));
      const want = ref.transfer(evs, r[0], r[1], 1);
      expect(res.body.departments.map((d: any) => d.from_department_id).sort(), `${stage} transfer ${r}`).toEqual([...want.keys()].sort());
      for (const d of res.body.departments) {
        const w = want.get(d.from_department_id)!;
        expect(d, `${stage} transfer ${r}`).toMatchObject({ reusers: w.reusers, reusers_with_both: w.reusers_with_both, invocations_before: w.invocations_before, invocations_after: w.invocations_after });
      }
    }
  }

  it('the late creations change authors: the data exercises it', () => {
    const before = ref.authors(early);
    const after = ref.authors(all);
    expect([...after.values()].some((a) => before.get(a.id) && before.get(a.id)!.author !== a.author)).toBe(true);
    expect([...after.values()].some((a) => !before.has(a.id))).toBe(true);
  });

  it('folded reuses with authors from folded later creations: == brute force', async () => {
    await b.org.insertEvents(early as any);
    for (let n = -1; n !== 0; ) n = (await b.foldRollups()).filter((f) => f.plugin === 'knowledge').reduce((x, f) => x + f.rows, 0);
    await check('folded', early);
  }, 300_000);

  it('the earliest creations read raw after the watermark move artifacts to their true author: == brute force', async () => {
    await b.org.insertEvents(late as any);
    await check('late creations raw', all);
  }, 300_000);

  it('everything folded: == brute force', async () => {
    for (let n = -1; n !== 0; ) n = (await b.foldRollups()).filter((f) => f.plugin === 'knowledge').reduce((x, f) => x + f.rows, 0);
    await check('all folded', all);
  }, 300_000);
});

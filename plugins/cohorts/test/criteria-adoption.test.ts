/**
 * The score-band criterion on the adoption plugin's own scores, through the SDK's
 * `userScoreRef` only: a cohort's members are the people of the events whose adoption
 * score on the latest scored day is in the band, as `GET /api/v1/adoption/scores` shows them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import adoption from '../../adoption/backend/index.ts';
import plugin from '../backend/index.ts';
import { rng } from './reference.ts';

describe('score-band criterion on adoption scores', () => {
  let b: TestBackend;
  const ids: string[] = [];

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [adoption, plugin] });
    const r = rng(3);
    const rows: Array<Record<string, unknown>> = [];
    let n = 0;
    for (let i = 0; i < 10; i++) {
      const u = await b.org.addUser({ email: `s${i}@band.local`, role: 'Developer', departments: ['Eng'] });
      ids.push(u.userId);
      // from idle to daily: a spread of scores
      for (let d = 1; d <= 16; d++) {
        if (r() > i / 10) continue;
        const day = `2026-03-${String(d).padStart(2, '0')}`;
        rows.push({ event_id: `a-${n++}`, user_id: u.userId, department_id: b.org.departments.get('Eng'), timestamp: `${day}T09:00:00Z`, event_type: 'agent_invocation', agent_name: 'coder', status: r() < 0.8 ? 'success' : 'failure' });
        if (r() < 0.5) rows.push({ event_id: `a-${n++}`, user_id: u.userId, department_id: b.org.departments.get('Eng'), timestamp: `${day}T10:00:00Z`, event_type: 'command', command_name: r() < 0.5 ? '/plan' : '/test', status: 'success' });
      }
    }
    await b.org.insertEvents(rows);
    const run = await b.client.post('/api/v1/adoption/admin/rescore', { from: '2026-03-15', to: '2026-03-17' });
    expect(run.status, run.text).toBe(200);
  }, 180_000);
  afterAll(() => b?.close());

  it("members are the event users whose adoption score is in the band on the latest scored day", async () => {
    const scores = (await b.client.get('/api/v1/adoption/scores', { day: '2026-03-16' })).body.users as Array<{ user_id: string; score: number }>;
    const active = new Set(scores.filter((s) => ids.includes(s.user_id) && s.score > 0).map((s) => s.user_id));
    expect(new Set(scores.map((s) => s.score)).size).toBeGreaterThan(3);
    for (const [min, max] of [[0, 30], [30, 60], [50, 100]] as const) {
      const c = await b.client.post('/api/v1/cohorts', { name: `adoption ${min}-${max}`, kind: 'dynamic', criteria: [{ kind: 'score_band', min, max }] });
      expect(c.status, c.text).toBe(200);
      // the day after the last scored day still reads 16 March's scores
      const re = await b.client.post(`/api/v1/cohorts/${c.body.id}/recompute`, { as_of: '2026-03-17T08:00:00Z' });
      expect(re.status, re.text).toBe(200);
      const members = (await b.client.get(`/api/v1/cohorts/${c.body.id}/members`, { limit: 1000 })).body.members.map((m: any) => m.user_id).sort();
      const want = scores.filter((s) => active.has(s.user_id) && s.score >= min && s.score <= max).map((s) => s.user_id).sort();
      expect(members).toEqual(want);
    }
  });

  it('without an enabled score provider a score-band cohort answers 424', async () => {
    expect((await b.client.put('/api/v1/admin/plugins/adoption', { enabled: false })).status).toBe(200);
    try {
      const c = await b.client.post('/api/v1/cohorts', { name: 'no provider', kind: 'dynamic', criteria: [{ kind: 'score_band', min: 0, max: 50 }] });
      expect(c.status, c.text).toBe(424);
      // nothing half-saved
      expect((await b.client.get('/api/v1/cohorts')).body.cohorts.map((x: any) => x.name)).not.toContain('no provider');
    } finally {
      await b.client.put('/api/v1/admin/plugins/adoption', { enabled: true });
    }
  });
});

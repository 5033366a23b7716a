import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/plugin-sdk/testing';
import adoption from '../backend/index.ts';

describe('first daily run on an org with history', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [adoption] });
  });
  afterAll(() => b.close());

  it('scores the past four weeks once, without flags for closed days, then only yesterday and today', async () => {
    const dev = await b.org.addUser({ email: 'hist@t.local', role: 'Developer', departments: ['Eng'] });
    const day = 86_400_000;
    // one command a day for the past 20 days
    await b.org.insertEvents(
      [...Array(20)].map((_, i) => ({
        event_id: `h-${i}`,
        event_type: 'command',
        command_name: '/review',
        status: 'success',
        user_id: dev.userId,
        department_id: b.org.departments.get('Eng'),
        session_id: `s-${i}`,
        timestamp: new Date(Date.now() - (i + 1) * day).toISOString(),
      })),
    );
    const first = (await b.runJob('adoption', 'score-daily'))['test-org'] as Record<string, unknown>;
    expect(first.backfilled_days).toBe(27);
    const days = await b.kernel.services.knex.withSchema(b.org.schema).table('adoption_scores').where({ user_id: dev.userId }).pluck('day');
    // 27 backfilled days + yesterday + today, one row each
    expect(days).toHaveLength(29);
    // replayed days raise no flags: every flag comes from today's run, and the dev's score rose
    // over the replayed weeks (more active days in the window), so history really was scored
    const raisedDays = await b.kernel.services.knex.withSchema(b.org.schema).table('adoption_flags').pluck('raised_day');
    const today = new Date().toISOString().slice(0, 10);
    for (const d of raisedDays) expect(new Date(d).toISOString().slice(0, 10)).toBe(today);
    const scores = await b.kernel.services.knex.withSchema(b.org.schema).table('adoption_scores').where({ user_id: dev.userId }).orderBy('day').pluck('score');
    expect(scores[0]).toBeLessThan(scores[scores.length - 2]);
    const again = (await b.runJob('adoption', 'score-daily'))['test-org'] as Record<string, unknown>;
    expect(again.backfilled_days).toBe(0);
  });
});

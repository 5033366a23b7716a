import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import metrics from '../backend/index.ts';

/**
 * `POST /api/v1/metrics/query` is remembered like the analytics GET routes: the same question
 * (the same body, whatever the order of its keys) by the same caller is answered from memory
 * until the org's events change, and the answer after a change counts the new events (checked
 * against counts made here from the events sent). Other callers and other orgs get their own.
 */
const AGENTS = ['coder', 'reviewer', 'planner', 'sql'];
let b: TestBackend;
const sent: Array<{ agent: string; ts: number }> = [];
const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
const from = new Date(to.getTime() - 2 * 86_400_000);

function rows(n: number, seed: number, prefix: string) {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const e = { agent: AGENTS[Math.floor(r() * AGENTS.length)]!, ts: from.getTime() + Math.floor(r() * (Date.now() - from.getTime() - 60_000)) };
    sent.push(e);
    return { event_id: `${prefix}${i}`, event_type: 'agent_invocation', timestamp: new Date(e.ts).toISOString(), department_id: 'd', user_id: `u${i % 7}`, agent_name: e.agent, status: 'success' };
  });
}

/** events per agent, as sent */
const reference = () => Object.fromEntries(AGENTS.map((a) => [a, sent.filter((e) => e.agent === a).length]).filter(([, n]) => n));
const totals = (body: any) => Object.fromEntries(body.series.map((s: any) => [s.group.agent_name, s.total]));

beforeAll(async () => {
  b = await startTestBackend({ plugins: [metrics] });
  await b.org.insertEvents(rows(300, 7, 'r'));
}, 300_000);
afterAll(async () => {
  await b?.close();
});

describe('remembered metrics answers', () => {
  const question = { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], granularity: 'hour', from: from.toISOString(), to: to.toISOString() };

  it('answers the same question from memory, whatever the order of its keys, until events arrive', async () => {
    const first = await b.client.post('/api/v1/metrics/query', question);
    expect(first.status).toBe(200);
    expect(first.headers['x-orrery-answer']).toBe('computed');
    expect(totals(first.body)).toEqual(reference());
    const again = await b.client.post('/api/v1/metrics/query', question);
    expect(again.headers['x-orrery-answer']).toBe('remembered');
    expect(again.body).toEqual(first.body);
    const reordered = Object.fromEntries(Object.entries(question).reverse());
    expect((await b.client.post('/api/v1/metrics/query', reordered)).headers['x-orrery-answer']).toBe('remembered');
    // another question is another answer
    const other = await b.client.post('/api/v1/metrics/query', { ...question, measure: 'users' });
    expect(other.headers['x-orrery-answer']).toBe('computed');
    // asked to compute now
    expect((await b.client.post('/api/v1/metrics/query', question, { 'cache-control': 'no-cache' })).headers['x-orrery-answer']).toBe('computed');

    await b.org.insertEvents(rows(40, 8, 'late'));
    const after = await b.client.post('/api/v1/metrics/query', question);
    expect(['computed', 'refreshed']).toContain(after.headers['x-orrery-answer']);
    expect(totals(after.body)).toEqual(reference());
  });

  it('keeps answers per caller and per org', async () => {
    await b.client.post('/api/v1/metrics/query', question);
    const dev = await b.org.addUser({ email: 'dev-remembered@t.local', role: 'Developer' });
    const mine = await dev.post('/api/v1/metrics/query', question);
    expect(mine.headers['x-orrery-answer']).toBe('computed');
    const other = await b.createOrg('other-remembered');
    const theirs = await other.client.post('/api/v1/metrics/query', question);
    expect(theirs.headers['x-orrery-answer']).toBe('computed');
    expect(theirs.body.series).toEqual([]);
  });

  it('never remembers a 400', async () => {
    const bad = { ...question, measure: 'median' };
    expect((await b.client.post('/api/v1/metrics/query', bad)).status).toBe(400);
    const again = await b.client.post('/api/v1/metrics/query', bad);
    expect(again.status).toBe(400);
    expect(JSON.stringify(again.body.error.details)).toContain('measure');
  });
});

/**
 * Saved funnels: CRUD in the plugin's own table, per org, and results equal to the
 * ad-hoc query with the same definition (itself proven against the reference).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { referenceFunnel, type Ev } from './reference.ts';

const T = Date.parse('2026-07-01T09:00:00.000Z');
const ev = (id: string, user: string, cmd: string, min: number): Ev => ({
  event_id: id, event_type: 'command', command_name: cmd, timestamp: new Date(T + min * 60_000).toISOString(), user_id: user, session_id: `${user}-s`, department_id: 'eng',
});

describe('saved funnels', () => {
  let b: TestBackend;
  let other: TestOrg;
  const data = [ev('1', 'ann', 'open', 0), ev('2', 'ann', 'review', 5), ev('3', 'bob', 'open', 10), ev('4', 'cy', 'open', 20), ev('5', 'cy', 'review', 90)];
  const definition = { steps: [{ event_type: 'command', where: { command_name: 'open' } }, { event_type: 'command', where: { command_name: 'review' } }], window_seconds: 3600 };
  const range = { from: new Date(T).toISOString(), to: new Date(T + 86_400_000).toISOString() };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    other = await b.createOrg('saved-other');
    await b.org.insertEvents(data);
    await other.insertEvents([ev('9', 'zed', 'open', 0)]);
  });
  afterAll(() => b?.close());

  it('creates, lists, reads, runs, replaces and deletes; another org sees none of it', async () => {
    const created = await b.client.post('/api/v1/funnels/saved', { name: 'Open to review', definition });
    expect(created.status).toBe(200);
    const id = created.body.id;
    expect(created.body.definition).toMatchObject(definition); // with the defaults filled in

    const list = await b.client.get('/api/v1/funnels/saved');
    expect(list.body.funnels.map((f: any) => f.name)).toEqual(['Open to review']);
    expect((await b.client.get(`/api/v1/funnels/saved/${id}`)).body.name).toBe('Open to review');

    const results = await b.client.get(`/api/v1/funnels/saved/${id}/results`, range);
    expect(results.status).toBe(200);
    const expected = referenceFunnel({ ...definition, ...range }, data);
    expect(results.body.steps.map((s: any) => s.count)).toEqual(expected.steps.map((s) => s.count));
    expect(results.body.steps.map((s: any) => s.count)).toEqual([3, 1]); // cy's review is past the hour
    // what a dashboard widget sends beside the range: the viewer's zone (no buckets: same answer) and a department
    const counts = async (q: Record<string, string>) => {
      const r = await b.client.get(`/api/v1/funnels/saved/${id}/results`, { ...range, ...q });
      expect(r.status, r.text).toBe(200);
      return r.body.steps.map((s: any) => s.count);
    };
    expect(await counts({ tz: 'Europe/Paris' })).toEqual([3, 1]);
    for (const dept of ['eng', 'ops']) expect(await counts({ department_id: dept }), dept).toEqual(referenceFunnel({ ...definition, ...range }, data.filter((e) => e.department_id === dept)).steps.map((s) => s.count));
    expect(await counts({ department_id: 'ops' })).toEqual([0, 0]);
    expect((await b.client.get(`/api/v1/funnels/saved/${id}/results`, { ...range, tz: 'Mars/Olympus' })).status).toBe(400);

    const replaced = await b.client.put(`/api/v1/funnels/saved/${id}`, { name: 'Open to review (2 h)', definition: { ...definition, window_seconds: 7200 } });
    expect(replaced.status).toBe(200);
    const again = await b.client.get(`/api/v1/funnels/saved/${id}/results`, range);
    expect(again.body.steps.map((s: any) => s.count)).toEqual(referenceFunnel({ ...definition, window_seconds: 7200, ...range }, data).steps.map((s) => s.count));

    // the other org: same name allowed, separate rows, and this id is not theirs
    expect((await other.client.get('/api/v1/funnels/saved')).body.funnels).toEqual([]);
    expect((await other.client.get(`/api/v1/funnels/saved/${id}`)).status).toBe(404);
    const theirs = await other.client.post('/api/v1/funnels/saved', { name: 'Open to review', definition });
    expect(theirs.status).toBe(200);
    expect((await other.client.get(`/api/v1/funnels/saved/${theirs.body.id}/results`, range)).body.steps.map((s: any) => s.count)).toEqual([1, 0]);

    expect((await b.client.delete(`/api/v1/funnels/saved/${id}`)).status).toBe(200);
    expect((await b.client.get(`/api/v1/funnels/saved/${id}`)).status).toBe(404);
    expect((await b.client.delete(`/api/v1/funnels/saved/${id}`)).status).toBe(404);
  });

  it('lists its widgets in the plugin catalogue', async () => {
    const res = await b.client.get('/api/v1/plugins');
    const me = res.body.plugins.find((p: any) => p.id === 'funnels');
    expect(me.widgets.map((w: any) => w.id).sort()).toEqual(['funnel', 'paths', 'time-to-convert', 'workflow-adoption']);
  });

  it('refuses a definition the query would refuse, naming the field', async () => {
    const res = await b.client.post('/api/v1/funnels/saved', { name: 'x', definition: { steps: [{ event_type: 'nope' }, { event_type: 'command' }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe('definition.steps[0].event_type');
    const empty = await b.client.post('/api/v1/funnels/saved', { name: 'x', definition: { steps: [] } });
    expect(empty.status).toBe(400);
  });
});

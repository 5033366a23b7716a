/**
 * Other plugins' tables as datasets: agent analytics offers its invocations as
 * an export source, and `dataset=agent-analytics.invocations` streams them as
 * CSV, JSON and NDJSON. Every row is compared with the agent_invocation event
 * the test sent (random, fast-check), in the provider's order (timestamp,
 * event_id), across many provider pages; a second org with the same agent
 * names sees only its own; an org that turned the provider off gets a 400
 * naming the dataset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import agentAnalytics from '../../agent-analytics/backend/index.ts';

const START = Date.parse('2026-05-04T00:00:00Z');
const FROM = new Date(START + 6 * 3_600_000).toISOString();
const TO = new Date(START + 60 * 3_600_000).toISOString();
const DATASET = 'agent-analytics.invocations';
const COLUMNS = ['event_id', 'timestamp', 'agent_name', 'agent_version', 'user_id', 'department_id', 'model_used', 'status', 'error_type', 'execution_time_ms', 'input_tokens', 'output_tokens', 'cost_usd'];

type Invocation = Record<string, string | number>;

/** Random invocations over three days; a few share a timestamp so pages split between equals. */
function invocations(seed: number, n: number, prefix: string, departments: string[]): Invocation[] {
  const arb = fc.record({
    minute: fc.integer({ min: 0, max: 3 * 24 * 60 - 1 }),
    second: fc.constantFrom(0, 0, 17, 42),
    agent: fc.constantFrom('reviewer', 'planner', 'coder, "v2"', '=cmd'),
    version: fc.constantFrom('1.0', '1.1'),
    user: fc.integer({ min: 1, max: 12 }),
    dept: fc.integer({ min: 0, max: departments.length - 1 }),
    model: fc.constantFrom('m-small', 'm-large'),
    status: fc.constantFrom('success', 'success', 'failure', 'timeout'),
    ms: fc.integer({ min: 1, max: 90_000 }),
    inTok: fc.integer({ min: 0, max: 50_000 }),
    outTok: fc.integer({ min: 0, max: 8_000 }),
    cents: fc.integer({ min: 0, max: 50_000 }),
  });
  return fc.sample(arb, { seed, numRuns: n }).map((r, i) => ({
    event_id: `${prefix}-${String(i).padStart(5, '0')}`,
    event_type: 'agent_invocation',
    timestamp: new Date(START + r.minute * 60_000 + r.second * 1000).toISOString(),
    user_id: `${prefix}-u${r.user}`,
    department_id: departments[r.dept]!,
    session_id: `${prefix}-s${r.user}`,
    agent_name: r.agent,
    agent_version: r.version,
    invocation_id: `${prefix}-inv-${i}`,
    model_used: r.model,
    status: r.status,
    error_type: r.status === 'success' ? '' : r.status === 'timeout' ? 'Timeout' : 'ToolError',
    execution_time_ms: r.ms,
    input_tokens: r.inTok,
    output_tokens: r.outTok,
    cost_usd: r.cents / 10_000,
  }));
}

/** What the provider must answer, worked out from what was sent: in range, by (timestamp, event_id). */
function expected(sent: Invocation[]) {
  return sent
    .filter((e) => (e.timestamp as string) >= FROM && (e.timestamp as string) < TO)
    .sort((a, b) => (a.timestamp === b.timestamp ? (a.event_id < b.event_id ? -1 : 1) : a.timestamp < b.timestamp ? -1 : 1));
}

const guarded = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

describe('exports: every export source as a dataset', () => {
  let b: TestBackend;
  let other: TestOrg;
  let dir: string;
  let sent: Invocation[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orrery-exports-provided-'));
    // small pages: the provider answers many pages of 23 rows, some splitting equal timestamps
    b = await startTestBackend({ plugins: [agentAnalytics, plugin], config: { plugins: { exports: { dir, pageRows: 23 } } } });
    other = await b.createOrg('other-co');
    await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer', departments: ['Engineering'] });
    const eng = b.org.departments.get('Engineering')!;
    sent = invocations(7, 400, 'a', [eng, 'dept-x']);
    await b.org.insertEvents(sent);
    await other.insertEvents(invocations(8, 150, 'b', ['dept-x']));
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the provided tables beside events, with their columns', async () => {
    const res = await b.client.get('/api/v1/export/datasets');
    expect(res.status).toBe(200);
    const names = res.body.datasets.map((d: { dataset: string }) => d.dataset);
    expect(names[0]).toBe('events');
    expect(names).toContain(DATASET);
    const inv = res.body.datasets.find((d: { dataset: string }) => d.dataset === DATASET);
    expect(inv.columns.map((c: { name: string }) => c.name)).toEqual(COLUMNS);
  });

  it('streams the provider\'s rows as JSON, NDJSON and CSV, each equal to the events sent', async () => {
    const want = expected(sent);
    expect(want.length).toBeGreaterThan(200);
    const json = await b.client.get('/api/v1/export/json', { dataset: DATASET, from: FROM, to: TO });
    expect(json.status).toBe(200);
    expect(json.headers['content-disposition']).toMatch(/filename="agent-analytics\.invocations-test-org-/);
    expect(json.body).toEqual(want.map((e) => Object.fromEntries(COLUMNS.map((c) => [c, e[c]]))));

    const nd = await b.client.get('/api/v1/export/json', { dataset: DATASET, from: FROM, to: TO }, { headers: { accept: 'application/x-ndjson' } });
    expect(nd.status).toBe(200);
    expect(nd.text.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(json.body);

    const csv = await b.client.get('/api/v1/export/csv', { dataset: DATASET, from: FROM, to: TO, fields: 'event_id,agent_name,cost_usd' });
    expect(csv.status).toBe(200);
    const [header, ...rows]: string[][] = parse(csv.text, { record_delimiter: '\r\n' });
    expect(header).toEqual(['event_id', 'agent_name', 'cost_usd']);
    expect(rows).toEqual(want.map((e) => [e.event_id, guarded(e.agent_name as string), String(e.cost_usd)]));
    for (const r of rows) expect(Number(r[2])).not.toBeNaN();
    // a name that looks like a formula was among the rows compared (guarded in CSV only)
    expect(want.some((e) => (e.agent_name as string).startsWith('='))).toBe(true);
  });

  it('a background job writes the same rows', async () => {
    const start = await b.client.post('/api/v1/export/jobs', { dataset: DATASET, from: FROM, to: TO, format: 'ndjson', fields: 'event_id,status' });
    expect(start.status).toBe(202);
    let job = start.body;
    for (let i = 0; i < 200 && job.status !== 'done' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await b.client.get(`/api/v1/export/jobs/${start.body.id}`)).body;
    }
    expect(job.status).toBe('done');
    const file = await b.client.get(job.url);
    expect(file.text.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(expected(sent).map((e) => ({ event_id: e.event_id, status: e.status })));
  });

  it("another org with the same agent names gets only its own rows", async () => {
    const theirs = await other.client.get('/api/v1/export/json', { dataset: DATASET, from: FROM, to: TO, fields: 'event_id,agent_name' });
    expect(theirs.status).toBe(200);
    expect(theirs.body.length).toBeGreaterThan(0);
    expect(theirs.body.every((r: { event_id: string }) => r.event_id.startsWith('b-'))).toBe(true);
    const mine = await b.client.get('/api/v1/export/json', { dataset: DATASET, from: FROM, to: TO, fields: 'event_id' });
    expect(mine.body.some((r: { event_id: string }) => r.event_id.startsWith('b-'))).toBe(false);
  });

  it('bad input names the field; a provider turned off for an org is no dataset there', async () => {
    const unknownTable = await b.client.get('/api/v1/export/csv', { dataset: 'agent-analytics.nope' });
    expect(unknownTable.status).toBe(400);
    expect(unknownTable.body.error.details.field).toBe('dataset');
    expect(unknownTable.body.error.details.known).toContain(DATASET);

    const badField = await b.client.get('/api/v1/export/csv', { dataset: DATASET, fields: 'event_id,comment' });
    expect(badField.status).toBe(400);
    expect(badField.body.error.details).toMatchObject({ field: 'fields', unknown: ['comment'] });

    const eventOnly = await b.client.get('/api/v1/export/json', { dataset: DATASET, event_type: 'agent_invocation' });
    expect(eventOnly.status).toBe(400);
    expect(eventOnly.body.error.details.field).toBe('event_type');

    const off = await other.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: false });
    expect(off.status).toBe(200);
    const gone = await other.client.get('/api/v1/export/json', { dataset: DATASET });
    expect(gone.status).toBe(400);
    expect(gone.body.error.details.field).toBe('dataset');
    expect(gone.body.error.details.known).toEqual(['events']);
    // the org that kept it on still has it
    expect((await b.client.get('/api/v1/export/json', { dataset: DATASET, from: FROM, to: TO, fields: 'event_id' })).status).toBe(200);
  });
});

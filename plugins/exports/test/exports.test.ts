/**
 * Dataset exports against a real kernel (PGlite + chDB): the CSV is parsed by
 * a real RFC 4180 parser (csv-parse) and the JSON by JSON.parse, and every row
 * is compared with the event that was sent: text exactly (guarded in CSV as
 * API.md says), numbers as numbers, lists as lists, in the sort-key order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { FIELDS, byKey, generate, guarded, type SentEvent } from './fixtures.ts';

const START = Date.parse('2026-03-02T00:00:00Z');
const DAYS = 4;
const FROM = new Date(START + 5 * 3_600_000).toISOString();
const TO = new Date(START + (DAYS * 24 - 3) * 3_600_000).toISOString();
const FIELD_LIST = Object.keys(FIELDS).join(',');
const inRange = (e: SentEvent) => e.timestamp >= FROM && e.timestamp < TO;

/** A CSV record's cell, as the sent event says it must read. */
function expectCsvRow(cells: Record<string, string>, e: SentEvent) {
  for (const [f, kind] of Object.entries(FIELDS)) {
    const cell = cells[f]!;
    const sent = e[f];
    if (kind === 'number') {
      // a number is written as a number: never guarded, never quoted text
      expect(cell, `${e.event_id}.${f}`).toMatch(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i);
      expect(Number(cell), `${e.event_id}.${f}`).toBe(sent);
    } else if (kind === 'time') expect(cell).toBe(sent);
    else if (kind === 'list') expect(JSON.parse(guardedOff(cell)), `${e.event_id}.${f}`).toEqual(sent);
    else expect(cell, `${e.event_id}.${f}`).toBe(guarded(sent as string));
  }
}
const guardedOff = (s: string) => (s.startsWith("'") ? s.slice(1) : s);

function expectJsonRow(obj: Record<string, unknown>, e: SentEvent) {
  expect(Object.keys(obj)).toEqual(Object.keys(FIELDS));
  for (const [f, kind] of Object.entries(FIELDS)) {
    if (kind === 'number') expect(typeof obj[f], `${e.event_id}.${f}`).toBe('number');
    expect(obj[f], `${e.event_id}.${f}`).toEqual(e[f]);
  }
}

function parseCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const records: string[][] = parse(text, { bom: false, relax_column_count: false, record_delimiter: '\r\n' });
  const [header, ...body] = records;
  return { header: header!, rows: body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!]))) };
}

describe('exports: datasets as CSV and JSON', () => {
  let b: TestBackend;
  let other: TestOrg;
  let dir: string;
  let sent: SentEvent[];
  let eng: string;
  let hr: string;
  let dev: TestClient & { userId: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orrery-exports-'));
    // small pages: every export crosses many page boundaries, some between equal timestamps
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { exports: { dir, pageRows: 37 } } } });
    other = await b.createOrg('other-co');
    dev = await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer', departments: ['Engineering'] });
    await b.org.addUser({ email: 'hr@test-org.local', role: 'Manager', departments: [{ name: 'People', manager: true }], restricted: ['People'] });
    eng = b.org.departments.get('Engineering')!;
    hr = b.org.departments.get('People')!;
    sent = generate({ seed: 24, n: 900, start: START, days: DAYS, departments: [eng, hr, ''], prefix: 'a' });
    await b.org.insertEvents(sent);
    // the other org: same names, same departments' names, its own ids
    await other.insertEvents(generate({ seed: 25, n: 300, start: START, days: DAYS, departments: [eng, hr, ''], prefix: 'b' }));
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams every row of the range as RFC 4180 CSV, text guarded, numbers as numbers, in sort-key order', async () => {
    const res = await b.client.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO, fields: FIELD_LIST });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="events-test-org-/);
    const { header, rows } = parseCsv(res.text);
    expect(header).toEqual(Object.keys(FIELDS));
    const expected = sent.filter(inRange).sort(byKey);
    expect(expected.length).toBeGreaterThan(600);
    expect(rows.map((r) => r.event_id)).toEqual(expected.map((e) => e.event_id));
    rows.forEach((r, i) => expectCsvRow(r, expected[i]!));
    // the cases the issue names all occur in what was compared
    const texts = expected.flatMap((e) => [e.error_message, e.comment, e.agent_name]);
    for (const probe of [',', '"', '\n', '🚀', '日本語', '=SUM', '+1', '@cmd', '\t']) expect(texts.some((t) => t.includes(probe)), probe).toBe(true);
    expect(expected.some((e) => e.metric_value < 0) && expected.some((e) => e.lines_changed < 0)).toBe(true);
  });

  it('answers a JSON array and NDJSON with the same rows, typed', async () => {
    const expected = sent.filter(inRange).sort(byKey);
    const json = await b.client.get('/api/v1/export/json', { dataset: 'events', from: FROM, to: TO, fields: FIELD_LIST });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(Array.isArray(json.body)).toBe(true);
    expect(json.body.length).toBe(expected.length);
    json.body.forEach((o: Record<string, unknown>, i: number) => expectJsonRow(o, expected[i]!));

    const nd = await b.client.get('/api/v1/export/json', { dataset: 'events', from: FROM, to: TO, fields: FIELD_LIST }, { headers: { accept: 'application/x-ndjson' } });
    expect(nd.status).toBe(200);
    expect(nd.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = nd.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual(json.body);
  });

  it('filters by event type with that type\'s catalogue fields as the default columns', async () => {
    const res = await b.client.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO, event_type: 'system_metric' });
    expect(res.status).toBe(200);
    const { header, rows } = parseCsv(res.text);
    expect(header).toContain('metric_value');
    expect(header).not.toContain('comment');
    expect(header).not.toContain('org_id');
    const expected = sent.filter((e) => inRange(e) && e.event_type === 'system_metric').sort(byKey);
    expect(rows.map((r) => [r.event_id, Number(r.metric_value), Number(r.lines_changed)])).toEqual(expected.map((e) => [e.event_id, e.metric_value, e.lines_changed]));
  });

  it('an empty range is a header row (CSV) and [] (JSON)', async () => {
    const range = { dataset: 'events', from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z', fields: 'event_id,comment' };
    const csv = await b.client.get('/api/v1/export/csv', range);
    expect(csv.text).toBe('event_id,comment\r\n');
    const json = await b.client.get('/api/v1/export/json', range);
    expect(json.body).toEqual([]);
  });

  it("never shows another org's rows, and the other org gets only its own", async () => {
    const mine = await b.client.get('/api/v1/export/json', { dataset: 'events', from: FROM, to: TO, fields: 'event_id' });
    expect(mine.body.some((r: any) => r.event_id.startsWith('b-'))).toBe(false);
    const theirs = await other.client.get('/api/v1/export/json', { dataset: 'events', from: FROM, to: TO, fields: 'event_id' });
    expect(theirs.status).toBe(200);
    expect(theirs.body.length).toBeGreaterThan(0);
    expect(theirs.body.every((r: any) => r.event_id.startsWith('b-'))).toBe(true);
  });

  it('keeps the rows of a restricted department from a member who does not manage it', async () => {
    const res = await dev.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO, fields: 'event_id,department_id' });
    expect(res.status).toBe(200);
    const { rows } = parseCsv(res.text);
    const expected = sent.filter((e) => inRange(e) && e.department_id === eng).sort(byKey);
    expect(rows.map((r) => r.event_id)).toEqual(expected.map((e) => e.event_id));
    expect(rows.some((r) => r.department_id === hr)).toBe(false);
  });

  it('records every export in the audit log: who, what and how many rows', async () => {
    const res = await b.client.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO, event_type: 'feedback', fields: 'event_id,comment' });
    expect(res.status).toBe(200);
    const rows = parseCsv(res.text).rows.length;
    const audit = await b.client.get('/api/v1/audit', { action: 'exports.export.*' });
    expect(audit.status).toBe(200);
    const entry = audit.body.entries.find((a: any) => a.action === 'exports.export.csv' && a.after?.event_type === 'feedback');
    expect(entry).toBeTruthy();
    expect(entry.actor_email).toBe('admin@test-org.local');
    expect(entry.target).toBe('events');
    expect(entry.after).toMatchObject({ rows, complete: true, fields: ['event_id', 'comment'], from: FROM, to: TO, format: 'csv' });
  });

  it('lists its widget with a built remote in the plugin catalogue', async () => {
    const res = await b.client.get('/api/v1/plugins');
    const mine = res.body.plugins.find((p: any) => p.id === 'exports');
    expect(mine.widgets.map((w: any) => w.id)).toEqual(['export-data']);
    // built by `node scripts/build-ui.mjs exports`; served where the manifest says
    if (mine.remote) expect((await b.client.get(mine.remote.entry)).status).toBe(200);
    else expect.fail('the exports remote is not built: run node scripts/build-ui.mjs exports');
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = await b.client.get('/api/docs/json');
    expect(doc.status).toBe(200);
    for (const path of ['/api/v1/export/csv', '/api/v1/export/json', '/api/v1/export/jobs', '/api/v1/export/jobs/{id}', '/api/v1/export/pdf', '/api/v1/export/schedule', '/api/v1/reports', '/api/v1/reports/{id}']) {
      expect(Object.keys(doc.body.paths), path).toContain(path);
    }
    expect(doc.body.paths['/api/v1/export/csv'].get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['dataset', 'from', 'to', 'event_type', 'fields']));
  });

  it('answers bad input with a 400 naming the parameter', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ dataset: 'nope' }, 'dataset'],
      [{ dataset: 'events', fields: 'event_id,bogus' }, 'fields'],
      [{ dataset: 'events', event_type: 'system_metric', fields: 'comment' }, 'fields'],
      [{ dataset: 'events', event_type: 'bogus' }, 'event_type'],
      [{ dataset: 'events', from: TO, to: FROM }, 'from'],
      [{ dataset: 'events', from: 'yesterday' }, 'from'],
    ];
    for (const [q, field] of cases) {
      for (const route of ['csv', 'json']) {
        const res = await b.client.get(`/api/v1/export/${route}`, q);
        expect(res.status, JSON.stringify(q)).toBe(400);
        expect(res.body.error.details.field, JSON.stringify(q)).toBe(field);
        expect(res.body.error.message).toContain(field);
      }
    }
    const missing = await b.client.get('/api/v1/export/csv', { from: FROM });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body.error)).toContain('dataset');
  });
});

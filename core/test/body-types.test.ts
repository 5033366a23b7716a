import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import exportsPlugin from '../../plugins/exports/backend/index.ts';

/**
 * A JSON body is checked as sent: a value of the wrong type is a 400 naming the field, not
 * quietly converted (`""` or `false` read as "no schedule" through an anyOf's null branch,
 * `"7"` as 7, a lone string as an array). Query strings arrive as text and are still converted
 * to their declared types. The exports plugin's report route has each kind of field.
 */
describe('route input types', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [exportsPlugin] });
  }, 120_000);
  afterAll(() => b?.close());

  const report = (extra: Record<string, unknown>) => b.client.post('/api/v1/reports', { name: 'Weekly figures', kind: 'executive', ...extra });

  it('refuses a body value of the wrong type, naming the field, and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ schedule: '' }, 'schedule'],
      [{ schedule: false }, 'schedule'],
      [{ schedule: 0 }, 'schedule'],
      [{ range_days: '7' }, 'range_days'],
      [{ skip_when_empty: 'false' }, 'skip_when_empty'],
      [{ channels: 'email' }, 'channels'],
      [{ name: 12 }, 'name'],
      [{ department_id: 5 }, 'department_id'],
    ];
    for (const [body, field] of cases) {
      const r = await report(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      expect(JSON.stringify(r.body.error), JSON.stringify(body)).toContain(field);
    }
    expect((await b.client.get('/api/v1/reports')).body.reports).toEqual([]);
  });

  it('takes the same fields with their declared types', async () => {
    const r = await report({ schedule: null, range_days: 7, skip_when_empty: false, channels: ['email'], department_id: null });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ schedule: null, skip_when_empty: false, definition: { range_days: 7, channels: ['email'], department_id: null } });
    const scheduled = await report({ schedule: { frequency: 'weekly', time: '08:30', weekday: 1 } });
    expect(scheduled.status, scheduled.text).toBe(201);
    expect(scheduled.body.schedule).toMatchObject({ frequency: 'weekly', time: '08:30', weekday: 1 });
  });

  it('still reads a query string’s numbers from text', async () => {
    await b.org.addUser({ email: 'second@t.local', role: 'Developer' });
    const one = await b.client.get('/api/v1/members', { limit: '1' });
    expect(one.status, one.text).toBe(200);
    expect(one.body.members).toHaveLength(1);
    expect(one.body.total).toBe(2);
    const bad = await b.client.get('/api/v1/members', { limit: 'many' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('limit');
  });
});

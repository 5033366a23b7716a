/**
 * A dashboard as PDF, drawn by the real portal in Debian's Chromium: the
 * platform listens, the portal (host-ui/dist, built by scripts/build-ui.mjs)
 * and the agent-analytics widgets are served, and the PDF is read back as
 * text and as an image. Skipped where Chromium or the built portal is absent.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { firstPageImage, hasPoppler, pdfText } from './pdfcheck.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && existsSync(join(ROOT, 'host-ui', 'dist', 'index.html')) && existsSync(join(ROOT, 'plugins', 'agent-analytics', 'frontend', 'dist', 'remoteEntry.js')) && hasPoppler;

const START = Date.parse('2026-06-01T00:00:00Z');
const FROM = new Date(START).toISOString();
const TO = new Date(START + 7 * 86_400_000).toISOString();

function invocations(n: number) {
  const agents = ['planner', 'reviewer', 'summarizer'];
  return Array.from({ length: n }, (_, i) => ({
    event_id: `inv-${i}`,
    event_type: 'agent_invocation',
    timestamp: new Date(START + ((i * 7_919_000) % (7 * 86_400_000))).toISOString(),
    user_id: `u-${i % 9}`,
    agent_name: agents[i % 3],
    invocation_id: `inv-${i}`,
    model_used: 'model-a',
    status: i % 7 === 0 ? 'failure' : 'success',
    execution_time_ms: 100 + (i % 50) * 20,
    input_tokens: 1000 + i,
    output_tokens: 300 + (i % 40),
    cost_usd: 0.001 * (1 + (i % 10)),
  }));
}

describe.skipIf(!ready)('exports: dashboards as PDF', () => {
  let b: TestBackend;
  let token: string;

  beforeAll(async () => {
    // from the folders, as the platform loads them: this plugin, the dashboards and a plugin with charts
    b = await startTestBackend({ loadPluginFolders: true, onlyPlugins: ['exports', 'dashboards', 'agent-analytics'], listen: true });
    token = b.client.token;
    await b.org.insertEvents(invocations(400));
  }, 120_000);
  afterAll(() => b?.close());

  const pdf = (query: Record<string, string>, auth = token) => fetch(`${b.url}/api/v1/export/pdf?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${auth}` } });

  it('renders the caller\'s dashboard with its charts, the org, range and zone in the header', async () => {
    const res = await pdf({ dashboard: 'mine', from: FROM, to: TO, tz: 'Europe/Paris', paper: 'A4' });
    expect(res.status, await res.clone().text().then((t) => t.slice(0, 300))).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 5).toString()).toBe('%PDF-');
    if (process.env.ORRERY_KEEP_PDF) (await import('node:fs')).writeFileSync(process.env.ORRERY_KEEP_PDF, body);
    const text = pdfText(body);
    // header: org name, the range in the zone asked for (Paris is UTC+2 in June), the zone
    expect(text).toContain('Test Org');
    expect(text).toContain('01 Jun 2026, 02:00');
    expect(text).toContain('08 Jun 2026, 02:00');
    expect(text).toContain('Europe/Paris');
    // the widgets drew the agents that were sent
    for (const agent of ['planner', 'reviewer', 'summarizer']) expect(text).toContain(agent);
    // A4 at 60 dpi is 496 × 702 px; a page with charts has coloured marks, not only grey text
    const img = firstPageImage(body);
    expect(Math.abs(img.width - 496)).toBeLessThanOrEqual(2);
    expect(Math.abs(img.height - 702)).toBeLessThanOrEqual(2);
    expect(img.colouredShare).toBeGreaterThan(0.005);
    expect(img.colours).toBeGreaterThan(20);
  }, 120_000);

  it('prints on Letter when asked', async () => {
    const res = await pdf({ dashboard: 'mine', from: FROM, to: TO, paper: 'Letter' });
    expect(res.status).toBe(200);
    const img = firstPageImage(Buffer.from(await res.arrayBuffer()));
    // 8.5 × 11 in at 60 dpi
    expect(Math.abs(img.width - 510)).toBeLessThanOrEqual(2);
    expect(Math.abs(img.height - 660)).toBeLessThanOrEqual(2);
  }, 120_000);

  it('answers 400 naming the bad parameter', async () => {
    for (const [q, field] of [
      [{ dashboard: 'some-id' }, 'dashboard'],
      [{ dashboard: 'mine', from: TO, to: FROM }, 'from'],
      [{ dashboard: 'mine', tz: 'Mars/Olympus' }, 'tz'],
    ] as const) {
      const res = await pdf(q as Record<string, string>);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.details.field).toBe(field);
    }
  });

  it('records the PDF in the audit log', async () => {
    const audit = await b.client.get('/api/v1/audit', { action: 'exports.export.pdf' });
    expect(audit.body.entries.length).toBeGreaterThanOrEqual(2);
    expect(audit.body.entries[0].after).toMatchObject({ widgets: expect.any(Number) });
    expect(audit.body.entries.every((e: any) => e.after.widgets >= 1)).toBe(true);
  });
});

describe('exports: PDF without Chromium', () => {
  it('answers 503 saying how to install it', async () => {
    const b = await startTestBackend({ plugins: [plugin], config: { plugins: { exports: { chromiumPath: '/nonexistent/chromium' } } } });
    try {
      const res = await b.client.get('/api/v1/export/pdf', { dashboard: 'mine' });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('chromium_missing');
      expect(res.body.error.message).toContain('apt-get install -y chromium');
    } finally {
      await b.close();
    }
  }, 60_000);
});

/**
 * Exports in Chromium: the export menu every widget frame has (CSV and JSON of what the widget
 * shows compared with counts computed here from the events sent; PNG and PDF pictures checked
 * as images), reachable by keyboard; and the reports page (create with a schedule, details,
 * send now, history, preview, choices in the URL).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import { parse } from 'csv-parse/sync';
import { apiLogin, axeSerious, hasChromium, launch, shot, signedInPage, startPlatform, untilVisible, type Platform, explainFailures } from './harness.ts';
import { firstPageImage, hasPoppler } from '../../plugins/exports/test/pdfcheck.ts';

const AGENTS = ['planner', 'reviewer, "senior"', 'テスト', 'writer'];

describe.skipIf(!hasChromium)('exports in chromium: the widget export menu and the reports page', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  const counts = new Map<string, number>();
  explainFailures(() => ({ page, platform }));

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    api = await apiLogin(platform);
    const me = await api<{ user: { id: string } }>('GET', '/api/v1/me');

    // random invocations over the last hours, counted here per agent
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'exports browser hook', kind: 'hook' });
    const events = Array.from({ length: 90 }, (_, i) => {
      const agent = AGENTS[Math.floor(Math.random() * AGENTS.length)]!;
      counts.set(agent, (counts.get(agent) ?? 0) + 1);
      return {
        event_id: crypto.randomUUID(), event_type: 'agent_invocation', timestamp: new Date(Date.now() - 60_000 - i * 97_000).toISOString(),
        department_id: 'eng', user_id: `u-${i % 4}`, session_id: 's-1', agent_name: agent, agent_version: '1.0.0',
        invocation_id: crypto.randomUUID(), model_used: 'm', input_tokens: 10, output_tokens: 2, execution_time_ms: 100 + i, status: i % 5 ? 'success' : 'failure',
      };
    });
    await api('POST', '/api/v1/events/batch', { events }, token).catch(async () => {
      for (const e of events) await api('POST', '/api/v1/events', e, token);
    });
    await untilVisible(api, events.map((e) => e.event_id));

    // a dashboard with a chart widget and a table widget
    const { plugins } = await api<{ plugins: Array<{ id: string; version: string }> }>('GET', '/api/v1/plugins');
    const version = plugins.find((p) => p.id === 'agent-analytics')!.version;
    await api('PUT', '/api/v1/dashboards/mine', { doc: { version: 1, items: [
      { i: 'usage', ref: 'agent-analytics/agent-usage', x: 0, y: 0, w: 8, h: 5, options: {}, pluginVersion: version, optionsVersion: 1 },
      { i: 'board', ref: 'agent-analytics/leaderboard', x: 8, y: 0, w: 4, h: 5, options: { minInvocations: 1 }, pluginVersion: version, optionsVersion: 1 },
    ] } });

    page = await signedInPage(browser, platform, { tourDismissedFor: [me.user.id], context: { viewport: { width: 1400, height: 900 }, acceptDownloads: true } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const read = async (d: Download) => readFileSync((await d.path())!);

  async function exportFrom(cell: ReturnType<Page['locator']>, title: string, item: string): Promise<{ name: string; body: Buffer }> {
    await cell.hover();
    await cell.getByRole('button', { name: `Export ${title}` }).click();
    const menu = page.getByRole('menu', { name: `Export ${title}` });
    await menu.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), menu.getByRole('menuitem', { name: item }).click()]);
    return { name: download.suggestedFilename(), body: await read(download) };
  }

  it('a chart widget: CSV and JSON hold the chart’s data (per-agent sums as sent), PNG and PDF are pictures of it', async () => {
    const cell = page.locator('section.cell[data-widget="agent-analytics/agent-usage"]');
    await cell.locator('.orrery-chart__plot .main-svg').first().waitFor({ timeout: 30_000 });

    const csv = await exportFrom(cell, 'Agent usage', 'Data as CSV');
    expect(csv.name).toBe('agent-usage.csv');
    const [header, ...rows] = parse(csv.body.toString('utf8'), { record_delimiter: '\r\n' }) as string[][];
    expect(header![0]).toBe('time');
    expect(new Set(header!.slice(1))).toEqual(new Set(counts.keys()));
    for (const [j, agent] of header!.entries()) {
      if (!j) continue;
      expect(rows.reduce((a, r) => a + Number(r[j] || 0), 0), agent).toBe(counts.get(agent));
    }

    const json = JSON.parse((await exportFrom(cell, 'Agent usage', 'Data as JSON')).body.toString('utf8'));
    expect(json).toMatchObject({ widget: 'Agent usage', tz: 'Europe/London' });
    expect(Date.parse(json.from)).toBeLessThan(Date.parse(json.to));
    const t = json.tables[0];
    for (const agent of counts.keys()) expect(t.rows.reduce((a: number, r: Record<string, number | null>) => a + (r[agent] ?? 0), 0)).toBe(counts.get(agent));

    const png = (await exportFrom(cell, 'Agent usage', 'Picture as PNG')).body;
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(300); // width
    expect(png.readUInt32BE(20)).toBeGreaterThan(200); // height

    const pdf = (await exportFrom(cell, 'Agent usage', 'Picture as PDF')).body;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    if (hasPoppler) {
      const img = firstPageImage(pdf);
      expect(img.colouredShare).toBeGreaterThan(0.002); // the chart's coloured lines
    }
  }, 120_000);

  it('a table widget, by keyboard: the menu opens on Enter, arrows move, Escape closes; the CSV is the table shown', async () => {
    const cell = page.locator('section.cell[data-widget="agent-analytics/leaderboard"]');
    await cell.locator('table tbody tr').first().waitFor({ timeout: 30_000 });
    const button = cell.getByRole('button', { name: 'Export Agent leaderboard' });
    await button.focus();
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu', { name: 'Export Agent leaderboard' });
    await menu.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Data as CSV');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Data as JSON');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await button.evaluate((b) => b === document.activeElement)).toBe(true);

    await page.keyboard.press('Enter');
    await menu.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const [header, ...rows] = parse((await read(download)).toString('utf8'), { record_delimiter: '\r\n' }) as string[][];
    expect(header!.slice(0, 3)).toEqual(['#', 'Agent', 'Invocations']);
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    expect(rows.map((r) => Number(r[2]))).toEqual(ranked.map(([, n]) => n));
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(counts.keys()));
    await expect.poll(() => cell.getByRole('status').textContent()).toContain('Saved');
    expect(await page.getByRole('button', { name: /PDF/ }).count()).toBeGreaterThan(0);
    expect(await axeSerious(page)).toEqual([]);
  }, 60_000);

  it('the reports page: an empty state, a report created with a schedule, sent now, its history and preview, all in the URL', async () => {
    await page.goto(`${platform.url}/p/exports/reports`);
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await page.getByText(/No reports yet/).waitFor();
    expect(await axeSerious(page)).toEqual([]);

    await page.getByRole('button', { name: 'New report' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('view')).toBe('new');
    await page.getByLabel('Name').fill('Weekly executive');
    await page.getByLabel(/Executive summary/).check();
    await page.getByLabel('Schedule').selectOption('weekly');
    await page.getByLabel('Weekday').selectOption('1');
    await page.getByLabel('Time', { exact: true }).fill('08:30');
    await page.getByLabel('Email').uncheck();
    await page.getByLabel('In the portal').check();
    await shot(page, 'reports-new');
    await page.getByRole('button', { name: 'Create report' }).click();

    await page.getByRole('heading', { name: 'Weekly executive', level: 2 }).waitFor();
    const id = new URL(page.url()).searchParams.get('report')!;
    const stored = await api<{ kind: string; schedule: { frequency: string; weekday: number; time: string; tz: string }; next_run_at: string }>('GET', `/api/v1/reports/${id}`);
    expect(stored).toMatchObject({ kind: 'executive', schedule: { frequency: 'weekly', weekday: 1, time: '08:30', tz: 'Europe/London' } });
    // the next run, shown in the user's zone
    const shown = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(stored.next_run_at));
    await page.getByRole('row', { name: /Weekly executive/ }).getByText(shown).waitFor();
    await page.getByText('Every Monday at 08:30 Europe/London').first().waitFor();
    await page.getByText(/Not sent yet/).waitFor();

    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByText(/^Sent to 1 destinations/).waitFor({ timeout: 60_000 });
    const history = page.getByRole('table', { name: /Runs of Weekly executive/ });
    await history.getByRole('row').nth(1).waitFor();
    expect(await history.getByRole('row').count()).toBe(2);
    expect(await history.getByRole('row').nth(1).textContent()).toContain('send now');
    expect(await history.getByRole('row').nth(1).textContent()).toContain('sent');

    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('table', { name: 'Key figures' }).waitFor();
    await shot(page, 'reports-details');
    expect(await axeSerious(page)).toEqual([]);

    await page.reload();
    await page.getByRole('heading', { name: 'Weekly executive', level: 2 }).waitFor();

    // the run's link (here from the in-app notification) records the open; the page shows the rate
    const { notifications } = await api<{ notifications: Array<{ subject: string; link: string | null }> }>('GET', '/api/v1/notifications');
    const link = notifications.find((n) => n.subject.includes('Weekly executive'))!.link!;
    expect(new URL(link).pathname).toBe('/p/exports/opened');
    await page.goto(link);
    await page.getByText('You opened the report “Weekly executive”').waitFor();
    await page.getByRole('link', { name: 'Go to the dashboard' }).waitFor();
    await page.goto(`${platform.url}/p/exports/reports?report=${id}`);
    await page.getByText('(1 of 1 recipients over 1 runs)').waitFor();
    expect(await page.getByRole('table', { name: /Runs of Weekly executive/ }).getByRole('row').nth(1).getByRole('cell').nth(2).textContent()).toBe('1'); // Opens (the first column is the row header)

    // edited in place: what the form shows changes, the rest stays
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit Weekly executive', level: 2 }).waitFor();
    expect(new URL(page.url()).searchParams.get('view')).toBe('edit');
    expect(await page.getByLabel('Weekday').inputValue()).toBe('1');
    await page.getByLabel('Name').fill('Weekly executive summary');
    await page.getByLabel('Weekday').selectOption('5');
    await page.getByRole('button', { name: 'Save report' }).click();
    await page.getByRole('heading', { name: 'Weekly executive summary', level: 2 }).waitFor();
    const edited = await api<{ name: string; kind: string; schedule: { weekday: number; time: string }; definition: { range_days: number; channels: string[] } }>('GET', `/api/v1/reports/${id}`);
    expect(edited).toMatchObject({ name: 'Weekly executive summary', kind: 'executive', schedule: { weekday: 5, time: '08:30' }, definition: { range_days: 7, channels: ['in_app'] } });
  }, 120_000);
});

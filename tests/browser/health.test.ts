/**
 * Platform health in the portal: the three widgets render for the operator with keyboard-
 * and screen-reader-friendly markup, and a dashboard visit reaches the platform's
 * dashboard-load series (host-ui/src/dashboard/loadTimer.ts → the plugin's sampler).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, shot, startPlatform, type Platform, explainFailures } from './harness.ts';

describe.skipIf(!hasChromium)('platform health in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  explainFailures(() => ({ page, platform }));

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-US', timezoneId: 'America/New_York' });
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    api = await apiLogin(platform);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('shows Platform health, Usage & limits and SLA compliance, and reports the dashboard load', async () => {
    const { plugins } = await api<{ plugins: Array<{ id: string; version: string }> }>('GET', '/api/v1/plugins');
    const version = plugins.find((p) => p.id === 'platform-health')!.version;
    const refs = ['platform-health/platform-health', 'platform-health/usage-limits', 'platform-health/sla-compliance'];
    const items = refs.map((ref, n) => ({ i: `health-${n}`, ref, x: n === 0 ? 0 : (n - 1) * 6, y: n === 0 ? 0 : 10, w: n === 0 ? 12 : 6, h: n === 0 ? 10 : 6, options: {}, pluginVersion: version, optionsVersion: 1 }));
    await api('PUT', '/api/v1/dashboards/mine', { doc: { version: 1, items } });

    await page.goto(`${platform.url}/login`);
    await page.getByLabel('Email').fill(platform.email);
    await page.getByLabel('Password').fill(platform.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.waitForFunction((n) => {
      const all = [...document.querySelectorAll('section.cell .cell__body')];
      return all.length === n && all.every((b) => !b.querySelector('.orrery-state--loading'));
    }, refs.length, { timeout: 60_000 });

    // Usage & limits: three meters with their values for assistive technology
    const meters = page.getByRole('meter');
    expect(await meters.count()).toBe(3);
    expect(await meters.first().getAttribute('aria-valuetext')).toMatch(/% of the limit/);
    await page.getByText(/Tier standard\./).waitFor();
    // Platform health: the stores, each answering
    for (const store of ['database', 'analytics', 'cache']) await page.getByRole('rowheader', { name: store }).waitFor();
    // capacity: no events yet on this fresh platform, so the projection says so instead of drawing zeros
    await page.getByText(/nothing to project yet/).waitFor();
    await shot(page, 'health-01-widgets');
    expect(await axeSerious(page)).toEqual([]);

    // the visit's load time reaches the platform's series once the sampler (every 10 s) took it
    const deadline = Date.now() + 45_000;
    let loads = 0;
    while (Date.now() < deadline && loads === 0) {
      const to = new Date(Date.now() + 60_000).toISOString();
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const r = await api<{ keys: Array<{ key: string; points: Array<{ value: number }> }> }>('GET', `/api/v1/platform-health/series?series=dashboard_load_count&scope=platform&step=hour&from=${from}&to=${to}`);
      loads = (r.keys.find((k) => k.key === 'dashboard:all')?.points ?? []).reduce((a, p) => a + p.value, 0);
      if (!loads) await new Promise((res) => setTimeout(res, 2000));
    }
    expect(loads).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

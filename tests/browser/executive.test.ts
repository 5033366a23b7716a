/**
 * The Executive dashboard in Chromium: an Admin makes it the Admin default, and its
 * widgets (KPI cards with targets, insights, budget burn-down, firing alerts) load from
 * the executive remote, draw, and pass an axe-core scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, shot, startPlatform, untilVisible, type Platform } from './harness.ts';

describe.skipIf(!hasChromium)('executive dashboard in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let api: Awaited<ReturnType<typeof apiLogin>>;

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    api = await apiLogin(platform);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('shows KPIs with targets, insights and a budget burn-down on the Admin default', async () => {
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'executive browser hook', kind: 'hook' });
    const now = Date.now();
    const events = Array.from({ length: 80 }, (_, n) => ({
      event_id: crypto.randomUUID(), event_type: 'agent_invocation', timestamp: new Date(now - (n + 1) * 3 * 3_600_000).toISOString(),
      department_id: 'eng', user_id: `u${n % 7}`, session_id: `s${n}`, agent_name: n % 3 ? 'planner' : 'reviewer', agent_version: '1.0.0',
      invocation_id: crypto.randomUUID(), model_used: 'm-large', input_tokens: 100, output_tokens: 20, execution_time_ms: 300 + n * 10,
      status: n % 5 ? 'success' : 'failure', cost_usd: 0.05 + (n % 4) * 0.01,
    }));
    await api('POST', '/api/v1/events/batch', { events }, token);
    await untilVisible(api, events.map((e) => e.event_id));
    await api('PUT', '/api/v1/executive/kpis/success_rate', { target: 0.9 });
    const { doc } = await api<{ doc: unknown }>('GET', '/api/v1/executive/dashboard');
    await api('PUT', '/api/v1/dashboards/defaults/role/Admin', { doc });
    await api('DELETE', '/api/v1/dashboards/mine').catch(() => undefined);

    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'en-US', timezoneId: 'America/New_York' });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${platform.url}/login`);
    await page.getByLabel('Email').fill(platform.email);
    await page.getByLabel('Password').fill(platform.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('dialog', { name: 'One time range for every widget' }).waitFor({ timeout: 20_000 }).then(() => page.keyboard.press('Escape')).catch(() => undefined);

    const kpis = page.locator('section.cell[data-widget="executive/kpi-cards"]').getByRole('list', { name: 'Key performance indicators' });
    await kpis.waitFor({ timeout: 30_000 });
    expect(await kpis.getByRole('listitem').count()).toBe(6);
    await expect.poll(() => kpis.textContent()).toMatch(/target ≥ 90/);
    // every card draws its trend over the week, by day, named in words for screen readers
    await expect.poll(() => kpis.getByRole('img', { name: /^By day over the range: from .+ to .+, last .+/ }).count()).toBe(6);
    // the range starts and ends inside a day: one of those two days holds at least half a day of
    // the 3-hourly events, and the line to it is dashed (a part of a day, not a fall)
    expect(await kpis.locator('polyline[stroke-dasharray]').count()).toBeGreaterThan(0);
    // an Admin sets a target in place, by keyboard
    await page.getByRole('button', { name: 'Set targets' }).click();
    const spend = kpis.getByRole('listitem').filter({ hasText: 'AI spend' });
    await spend.getByLabel('Target (USD)').fill('1000');
    await spend.getByLabel('Target (USD)').press('Enter');
    await expect.poll(() => spend.textContent(), { timeout: 15_000 }).toMatch(/Target met · target ≤ \$1,000/);
    expect((await api<{ kpis: Array<{ key: string; target: number | null }> }>('GET', '/api/v1/executive/kpis')).kpis.find((k) => k.key === 'cost_usd')!.target).toBe(1000);
    await page.getByRole('button', { name: 'Done setting targets' }).click();

    // no budget yet: the Admin sets one in the widget, by keyboard, and its burn-down draws
    const burn = page.locator('section.cell[data-widget="executive/budget-burn-down"]');
    const form = burn.getByRole('form', { name: 'New monthly budget' });
    await form.waitFor({ timeout: 30_000 });
    await form.getByLabel('Name').fill('AI spend');
    expect(await form.getByLabel('For').inputValue()).toBe('org');
    await form.getByLabel('Amount per month (USD)').fill('3');
    await form.getByLabel('Amount per month (USD)').press('Enter');
    await burn.locator('.main-svg').first().waitFor({ timeout: 30_000 });
    expect(await burn.textContent()).toMatch(/AI spend: .* spent/);
    expect((await api<{ budgets: Array<{ name: string; scope: string; amount_usd: number }> }>('GET', '/api/v1/budgets')).budgets.map((b) => [b.name, b.scope, b.amount_usd])).toEqual([['AI spend', 'org', 3]]);

    const insights = page.locator('section.cell[data-widget="executive/insights"]');
    await insights.getByRole('list', { name: 'Insights' }).waitFor({ timeout: 30_000 });
    // the budget of $3 is over or heading there: its insight leads, in words (the widget heard of the new budget live)
    await expect.poll(() => insights.getByRole('listitem').first().textContent(), { timeout: 30_000 }).toMatch(/Budget “AI spend”/);
    // an insight with a chart opens it in place
    const show = insights.getByRole('button', { name: /^Show the chart/ }).first();
    if (await show.count()) {
      await show.click();
      await insights.locator('.main-svg').first().waitFor({ timeout: 30_000 });
      expect(await insights.getByRole('button', { name: 'Hide the chart' }).getAttribute('aria-expanded')).toBe('true');
    }

    await page.locator('.orrery-state--loading').first().waitFor({ state: 'detached', timeout: 30_000 }).catch(() => undefined);
    await shot(page, '20-executive-dashboard');
    expect(await axeSerious(page)).toEqual([]);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 180_000);
});

/**
 * Named dashboards and the metrics explorer in Chromium: a member builds a chart in the
 * explorer, saves it to a new dashboard shared with their department, and another member of
 * that department sees it (view only) with the data; a member of another department does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, shot, signedInPage, startPlatform, untilVisible, type Platform } from './harness.ts';

const PASSWORD = 'dashboards-pass-2026';

describe.skipIf(!hasChromium)('named dashboards and the explorer in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  const ids: Record<string, string> = {};
  const counts: Record<string, number> = { planner: 0, coder: 0, reviewer: 0 };
  let hookToken = '';

  /** the platform's Admin, through the login form (the Admin is in no department) */
  async function signInAsAdmin(): Promise<Page> {
    const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await admin.goto(`${platform.url}/login`);
    await admin.getByLabel('Email').fill(platform.email);
    await admin.getByLabel('Password').fill(platform.password);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    return admin;
  }

  async function signIn(email: string): Promise<Page> {
    return signedInPage(browser, platform, { tourDismissedFor: Object.values(ids), email, password: PASSWORD, context: { timezoneId: 'Europe/Berlin' } });
  }

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    api = await apiLogin(platform);
    const eng = await api<{ id: string }>('POST', '/api/v1/departments', { name: 'Engineering' });
    const sales = await api<{ id: string }>('POST', '/api/v1/departments', { name: 'Sales' });
    ids.eng = eng.id;
    ids.sales = sales.id;
    const ops = await api<{ id: string }>('POST', '/api/v1/departments', { name: 'Operations' });
    ids.ops = ops.id;
    for (const [name, dept] of [['ana', eng.id], ['ben', eng.id], ['cat', sales.id]] as const) {
      const m = await api<{ user_id: string }>('POST', '/api/v1/users', { email: `${name}@dash.local`, display_name: name, role: 'Developer', password: PASSWORD, departments: [{ id: dept }] });
      ids[name] = m.user_id;
    }
    // a Manager of Sales who is a plain member of Engineering
    const mia = await api<{ user_id: string }>('POST', '/api/v1/users', { email: 'mia@dash.local', display_name: 'mia', role: 'Manager', password: PASSWORD, departments: [{ id: eng.id }, { id: sales.id, manager: true }] });
    ids.mia = mia.user_id;
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'dash-hook', kind: 'hook' });
    hookToken = token;
    const now = Date.now();
    const events = Array.from({ length: 30 }, (_, i) => {
      const agent = ['planner', 'coder', 'reviewer'][i % 3]!;
      counts[agent]!++;
      return {
        event_id: `dash-${i}`, event_type: 'agent_invocation', timestamp: new Date(now - (i + 1) * 600_000).toISOString(),
        user_id: ids.ana, department_id: eng.id, session_id: 'dash-session', agent_name: agent, agent_version: '1', invocation_id: `inv-${i}`,
        model_used: 'm', input_tokens: 10, output_tokens: 5, execution_time_ms: 100 + i, status: 'success', cost_usd: 0.01,
      };
    });
    const sent = await api<{ accepted: number; results: Array<{ status: string; error?: unknown }> }>('POST', '/api/v1/events/batch', { events }, token);
    expect(sent.accepted, JSON.stringify(sent.results.find((r) => r.error))).toBe(events.length);
    await untilVisible(api, events.map((e) => e.event_id));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('builds a chart in the explorer, saves it to a new department dashboard, and a colleague sees it', async () => {
    const ana = await signIn('ana@dash.local');
    await ana.goto(`${platform.url}/p/metrics/explorer?event_type=agent_invocation&measure=count&granularity=none`);
    await ana.getByRole('heading', { name: 'Explore metrics', level: 1 }).waitFor();
    await ana.getByLabel('Group by (up to 3)').selectOption(['agent_name']);
    await ana.getByLabel('Chart').selectOption('bar');
    // the question is in the URL: a reload reopens it
    await expect.poll(() => new URL(ana.url()).searchParams.get('group_by')).toBe('agent_name');
    await ana.reload();
    expect(await ana.getByLabel('Chart').inputValue()).toBe('bar');
    const chart = ana.locator('figure.orrery-chart');
    await chart.waitFor();
    // the chart's data table holds each agent's count, as sent
    for (const [agent, n] of Object.entries(counts)) await ana.locator('figure.orrery-chart tr', { hasText: agent }).filter({ hasText: String(n) }).first().waitFor({ state: 'attached' });
    expect(await axeSerious(ana)).toEqual([]);
    await shot(ana, 'metrics-explorer');

    await ana.getByRole('button', { name: 'Save to a dashboard…' }).click();
    await ana.getByRole('heading', { name: 'Dashboards', level: 1 }).waitFor();
    const form = ana.locator('section[aria-labelledby="new-title"]');
    await form.getByLabel('Name').fill('Engineering agents');
    await form.getByLabel('Shared with').selectOption('department');
    await form.getByLabel('Department').selectOption(ids.eng!);
    await form.getByLabel('They may').selectOption('view');
    await form.getByRole('button', { name: 'Create and add' }).click();
    await ana.getByRole('heading', { name: 'Engineering agents', level: 1 }).waitFor();
    await ana.locator('[data-widget="metrics/metric"] figure.orrery-chart').waitFor();
    expect(await axeSerious(ana)).toEqual([]);
    await shot(ana, 'named-dashboard-owner');

    const ben = await signIn('ben@dash.local');
    await ben.goto(`${platform.url}/dashboards`);
    await ben.getByRole('link', { name: 'Engineering agents' }).click();
    await ben.getByRole('heading', { name: 'Engineering agents', level: 1 }).waitFor();
    await ben.getByText('view only').waitFor();
    for (const [agent, n] of Object.entries(counts)) await ben.locator('[data-widget="metrics/metric"] figure.orrery-chart tr', { hasText: agent }).filter({ hasText: String(n) }).first().waitFor({ state: 'attached' });
    expect(await ben.getByRole('button', { name: 'Add widget' }).count()).toBe(0);
    await shot(ben, 'named-dashboard-colleague');

    // opened directly (a link, a bookmark) on a first visit: index.html asks for the named
    // dashboard while the bundles download, and preloads its widgets' code from it
    const dashboardPath = new URL(ben.url()).pathname;
    const stored = await ben.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
    const visit = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    await visit.addInitScript((entries) => { for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v); }, stored);
    const direct = await visit.newPage();
    const asked: string[] = [];
    direct.on('request', (r) => { const u = new URL(r.url()); if (u.pathname === `/api/v1/dashboards${dashboardPath.slice(2)}`) asked.push(u.pathname); });
    await direct.goto(`${platform.url}${dashboardPath}`);
    for (const [agent, n] of Object.entries(counts)) await direct.locator('[data-widget="metrics/metric"] figure.orrery-chart tr', { hasText: agent }).filter({ hasText: String(n) }).first().waitFor({ state: 'attached' });
    const { plugins } = await api<{ plugins: Array<{ id: string; remote: { entry: string; widgetAssets?: Record<string, string[]> } | null }> }>('GET', '/api/v1/plugins');
    const remote = plugins.find((p) => p.id === 'metrics')!.remote!;
    const entries = await direct.evaluate(() => performance.getEntriesByType('resource').map((e) => ({ path: new URL(e.name).pathname, by: (e as PerformanceResourceTiming).initiatorType })));
    for (const path of [remote.entry, ...(remote.widgetAssets?.metric ?? [])]) expect(entries.filter((e) => e.path === path), path).toEqual([{ path, by: 'link' }]);
    expect(asked).toHaveLength(1); // the app took the boot script's answer
    await visit.close();

    const cat = await signIn('cat@dash.local');
    await cat.goto(`${platform.url}/dashboards`);
    await cat.getByRole('heading', { name: 'All dashboards you can see' }).waitFor();
    await cat.getByText(/No named dashboards yet/).waitFor();
    expect(await cat.getByRole('link', { name: 'Engineering agents' }).count()).toBe(0);
  }, 180_000);

  it('lays a named dashboard across the page\'s whole width, on a wide screen and after a resize', async () => {
    // the Executive template opens on a full-width row of KPIs
    const board = await api<{ id: string }>('POST', '/api/v1/dashboards', { name: 'Wide screen', template: 'executive' });
    const admin = await signedInPage(browser, platform, { tourDismissedFor: [], context: { viewport: { width: 1700, height: 900 } } });
    await admin.goto(`${platform.url}/d/${board.id}`);
    await admin.getByRole('heading', { name: 'Wide screen', level: 1 }).waitFor();
    const widths = () => admin.evaluate(() => ({
      page: Math.round(document.querySelector('.grid-wrap')!.getBoundingClientRect().width),
      row: Math.round(document.querySelector('[data-widget="executive/kpi-cards"]')!.closest('.react-grid-item')!.getBoundingClientRect().width),
    }));
    // (the grid library's own measure kept 1,280 px when the grid's container appeared after "Loading…")
    await expect.poll(widths, { timeout: 30_000 }).toEqual({ page: expect.toSatisfy((w: number) => w > 1400), row: expect.anything() });
    await expect.poll(async () => { const w = await widths(); return w.row - w.page; }, { timeout: 10_000 }).toBe(0);
    await admin.setViewportSize({ width: 1100, height: 900 });
    await expect.poll(async () => { const w = await widths(); return w.page < 1100 && w.row === w.page; }, { timeout: 10_000 }).toBe(true);
    await admin.context().close();
  }, 90_000);

  it('offers every department to an Admin, the managed ones to a Manager, and the org\'s agents as a picker that still takes free text', async () => {
    const departmentsOf = async (page: Page) => (await page.locator('select[name="filter-department"] option').allTextContents()).filter((t) => t !== 'All departments').sort();
    const agentsOf = (page: Page) => page.locator('#filter-agent-options option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).sort());

    // the Admin is in no department, yet picks any of the org's
    const board = await api<{ id: string }>('POST', '/api/v1/dashboards', { name: 'Pickers' });
    const admin = await signInAsAdmin();
    await admin.goto(`${platform.url}/d/${board.id}`);
    await admin.getByRole('heading', { name: 'Pickers', level: 1 }).waitFor();
    await expect.poll(() => departmentsOf(admin), { timeout: 30_000 }).toEqual(['Engineering', 'Operations', 'Sales']);
    // the agents the events carried, from the metrics query
    await expect.poll(() => agentsOf(admin), { timeout: 30_000 }).toEqual(Object.keys(counts).sort());
    // picking one from the list filters at once and is saved with the dashboard
    await admin.getByLabel('Agent').fill('coder');
    await expect.poll(async () => (await api<{ filters: { agent_name?: string } }>('GET', `/api/v1/dashboards/${board.id}`)).filters.agent_name, { timeout: 10_000 }).toBe('coder');
    // a name not in the list is still taken (on Enter)
    await admin.getByLabel('Agent').fill('an-agent-not-seen-yet');
    await admin.getByLabel('Agent').press('Enter');
    await expect.poll(async () => (await api<{ filters: { agent_name?: string } }>('GET', `/api/v1/dashboards/${board.id}`)).filters.agent_name, { timeout: 10_000 }).toBe('an-agent-not-seen-yet');
    await admin.getByLabel('Department').selectOption(ids.ops!);
    await expect.poll(async () => (await api<{ filters: { department_id?: string } }>('GET', `/api/v1/dashboards/${board.id}`)).filters.department_id, { timeout: 10_000 }).toBe(ids.ops);
    await shot(admin, 'dashboard-pickers-admin');

    // the Manager picks Sales (managed), not Engineering (a plain member) nor Operations
    const mia = await signIn('mia@dash.local');
    const asMia = await apiLogin({ ...platform, email: 'mia@dash.local', password: PASSWORD });
    const own = await asMia<{ id: string }>('POST', '/api/v1/dashboards', { name: 'Mine' });
    await mia.goto(`${platform.url}/d/${own.id}`);
    await mia.getByRole('heading', { name: 'Mine', level: 1 }).waitFor();
    // (the caller's own departments show until the options arrive)
    await expect.poll(() => departmentsOf(mia), { timeout: 30_000 }).toEqual(['Sales']);
  }, 180_000);

  it('brings an Admin a department\'s live events on a dashboard filtered to it, though the Admin is not in it', async () => {
    const board = await api<{ id: string }>('POST', '/api/v1/dashboards', {
      name: 'Sales live',
      filters: { department_id: ids.sales },
      doc: { version: 1, items: [{ i: 'live', ref: 'dashboards/live-activity', x: 0, y: 0, w: 6, h: 5, options: {}, pluginVersion: '1.0.0', optionsVersion: 1 }] },
    });
    const admin = await signInAsAdmin();
    await admin.goto(`${platform.url}/d/${board.id}`);
    const live = admin.locator('section.cell[data-widget="dashboards/live-activity"]');
    await live.getByText('events in the last 15 minutes in Sales').waitFor({ timeout: 20_000 });
    await live.getByText('Waiting for events').waitFor();
    await admin.locator('.live--live').waitFor({ timeout: 15_000 });
    const event = (n: number, department: string) => ({
      event_id: `live-${department}-${n}`, event_type: 'agent_invocation', timestamp: new Date().toISOString(), user_id: ids.cat, department_id: department,
      session_id: 'live-session', agent_name: 'closer', agent_version: '1', invocation_id: `live-inv-${department}-${n}`, model_used: 'm',
      input_tokens: 1, output_tokens: 1, execution_time_ms: 10, status: 'success',
    });
    // another department's event is not counted here; the watched one's arrives without a reload
    await api('POST', '/api/v1/events', event(1, ids.eng!), hookToken);
    await api('POST', '/api/v1/events', event(2, ids.sales!), hookToken);
    await live.getByTestId('live-count').getByText('1', { exact: true }).waitFor({ timeout: 15_000 });
    await api('POST', '/api/v1/events', event(3, ids.sales!), hookToken);
    await live.getByTestId('live-count').getByText('2', { exact: true }).waitFor({ timeout: 15_000 });
    await admin.context().close();
  }, 90_000);
});

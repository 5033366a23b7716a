/**
 * The portal end to end: log in, add a widget from the catalogue, drag and resize it, find
 * it where it was after a reload, watch it change when an event arrives, see a widget go
 * when its plugin is turned off, and scan the main pages with axe-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, SCREENSHOTS, shot, startPlatform, untilVisible, type Platform, explainFailures } from './harness.ts';

describe.skipIf(!hasChromium)('portal in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  explainFailures(() => ({ page, platform }));

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'Europe/Berlin' });
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    api = await apiLogin(platform);
    // every run starts from the suggested layout
    await api('DELETE', '/api/v1/dashboards/mine').catch(() => undefined);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    console.log(`browser screenshots: ${SCREENSHOTS}`);
  });

  it('shows the login page and signs in', async () => {
    await page.goto(`${platform.url}/`);
    await page.waitForURL(/\/login/);
    await page.getByLabel('Email').fill(platform.email);
    await page.getByLabel('Password').fill(platform.password);
    await shot(page, '01-login');
    expect(await axeSerious(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
  }, 60_000);

  it('shows the first-run tour once, keyboard first, and remembers it was dismissed', async () => {
    const tour = page.getByRole('dialog', { name: 'One time range for every widget' });
    await tour.waitFor();
    // the tour takes focus so a keyboard user meets it first
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('dialog');
    await shot(page, '02a-tour-time');
    expect(await axeSerious(page)).toEqual([]);
    await page.keyboard.press('ArrowRight');
    await page.getByRole('dialog', { name: 'Find widgets in the catalogue' }).waitFor();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('dialog', { name: 'Your dashboard, your layout' }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await page.getByRole('dialog', { name: 'Find widgets in the catalogue' }).waitFor();
    await shot(page, '02b-tour-catalogue');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: /Find widgets/ }).waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.waitForTimeout(500);
    expect(await page.locator('.tour').count()).toBe(0);
  }, 60_000);

  it('loads federated widgets with one React (no invalid hook call)', async () => {
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.reload();
    const cells = page.locator('section.cell');
    await cells.first().waitFor();
    // every cell of the suggested layout loads its remote and leaves the loading state
    await page.waitForFunction(() => {
      const all = [...document.querySelectorAll('section.cell .cell__body')];
      return all.length > 0 && all.every((b) => !b.querySelector('.orrery-state--loading'));
    }, undefined, { timeout: 30_000 });
    const remotes = new Set(await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-widget')!.split('/')[0])));
    expect(remotes.size).toBeGreaterThan(1); // widgets from more than one remote share one React
    expect(await page.locator('section.cell .orrery-state--error').count()).toBe(0);
    expect(errors.filter((e) => /Invalid hook call|more than one copy of React/i.test(e))).toEqual([]);
    await shot(page, '02-dashboard-default');
  }, 60_000);

  it('adds a widget from the catalogue, drags and resizes it, and finds it there after a reload', async () => {
    // start from an empty grid so the positions are known
    for (;;) {
      const remove = page.getByRole('button', { name: /^Remove / }).first();
      if (!(await remove.count())) break;
      await remove.click();
    }
    await page.getByText('Your dashboard is empty').waitFor();
    await page.getByRole('button', { name: 'Add widget' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a widget' });
    await dialog.getByRole('button', { name: 'Add Getting started' }).click();
    const cell = page.locator('section.cell[data-widget="dashboards/welcome"]');
    await cell.waitFor();
    const item = page.locator('.react-grid-item').filter({ has: cell });

    // drag by the handle, three columns to the right and two rows down
    const before = (await item.boundingBox())!;
    const handle = cell.locator('.cell__drag');
    await cell.hover();
    const hb = (await handle.boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    const colW = (1400 - 48) / 12;
    for (let i = 1; i <= 10; i++) await page.mouse.move(hb.x + hb.width / 2 + (colW * 3 * i) / 10, hb.y + hb.height / 2 + (80 * 2 * i) / 10);
    await page.mouse.up();
    await page.waitForTimeout(300);
    const moved = (await item.boundingBox())!;
    expect(moved.x).toBeGreaterThan(before.x + colW * 2);

    // resize from the bottom-right corner
    const se = item.locator('.react-resizable-handle-se');
    await item.hover();
    const rb = (await se.boundingBox())!;
    await page.mouse.move(rb.x + rb.width / 2, rb.y + rb.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(rb.x + rb.width / 2 + (colW * 2 * i) / 10, rb.y + rb.height / 2 + (80 * i) / 10);
    await page.mouse.up();
    await page.getByText('All changes saved').waitFor({ timeout: 10_000 });
    const resized = (await item.boundingBox())!;
    expect(resized.width).toBeGreaterThan(moved.width + colW);

    const saved = await api<{ doc: { items: Array<{ ref: string; x: number; y: number; w: number; h: number; pluginVersion: string }> } }>('GET', '/api/v1/dashboards/mine');
    expect(saved.doc.items).toHaveLength(1);
    expect(saved.doc.items[0]).toMatchObject({ ref: 'dashboards/welcome', pluginVersion: '1.0.0' });
    expect(saved.doc.items[0]!.x).toBeGreaterThan(0);
    await shot(page, '03-dragged-resized');

    await page.reload();
    await page.locator('section.cell[data-widget="dashboards/welcome"]').waitFor();
    const after = (await page.locator('.react-grid-item').filter({ has: page.locator('section.cell[data-widget="dashboards/welcome"]') }).boundingBox())!;
    expect(Math.round(after.x)).toBe(Math.round(resized.x));
    expect(Math.round(after.width)).toBe(Math.round(resized.width));
    expect(Math.round(after.height)).toBe(Math.round(resized.height));
    await shot(page, '04-after-reload');

    // the catalogue says which widgets are on the dashboard already: exactly the one added
    await page.getByRole('button', { name: 'Add widget' }).first().click();
    const marked = page.getByRole('dialog', { name: 'Add a widget' }).locator('.catalogue__card', { hasText: 'On your dashboard' });
    await marked.first().waitFor();
    expect(await marked.locator('h4').allTextContents()).toEqual(['Getting started']);
    await page.keyboard.press('Escape');
    await page.goto(`${platform.url}/catalogue`);
    await page.getByRole('heading', { name: 'Widget catalogue' }).waitFor();
    const onPage = page.locator('.catalogue__card', { hasText: 'On your dashboard' });
    await onPage.first().waitFor();
    expect(await onPage.locator('h4').allTextContents()).toEqual(['Getting started']);
    await page.goto(platform.url);
    await page.locator('section.cell[data-widget="dashboards/welcome"]').waitFor();
  }, 90_000);

  it('asks for the widgets\' code and the chart library while it boots, and for each widget\'s data once', async () => {
    // a saved layout of chart widgets from several plugins: index.html preloads from it
    const { plugins } = await api<{ plugins: Array<{ id: string; version: string; remote: { entry: string; widgetAssets?: Record<string, string[]> } | null; widgets: Array<{ id: string }> }> }>('GET', '/api/v1/plugins');
    const refs = ['agent-analytics/cost-tokens', 'adoption/roi', 'user-activity/activity-heatmap', 'dashboards/welcome'];
    const before = await api<{ doc: unknown }>('GET', '/api/v1/dashboards/mine');
    const items = refs.map((ref, n) => ({ i: `preload-${n}`, ref, x: (n % 2) * 6, y: Math.floor(n / 2) * 4, w: 6, h: 4, options: {}, pluginVersion: plugins.find((p) => p.id === ref.split('/')[0])!.version, optionsVersion: 1 }));
    await api('PUT', '/api/v1/dashboards/mine', { doc: { version: 1, items } });

    // a first visit (cold browser cache) with this tab's session: what the boot script asked for
    const stored = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
    const visit = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'Europe/Berlin' });
    await visit.addInitScript((entries) => { for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v); }, stored);
    const fresh = await visit.newPage();
    const dataRequests: string[] = [];
    fresh.on('request', (r) => { if (/^\/api\/v1\/(agents|users|adoption)\//.test(new URL(r.url()).pathname)) dataRequests.push(r.url()); });
    await fresh.goto(`${platform.url}/`);
    await fresh.waitForFunction((n) => {
      const all = [...document.querySelectorAll('section.cell .cell__body')];
      return all.length === n && all.every((b) => !b.querySelector('.orrery-state--loading'));
    }, refs.length, { timeout: 30_000 });
    await fresh.waitForTimeout(1000); // a second fetch, if any, would come now

    const expected = refs.flatMap((ref) => {
      const [pluginId, widgetId] = ref.split('/') as [string, string];
      const remote = plugins.find((p) => p.id === pluginId)!.remote!;
      return [remote.entry, ...(remote.widgetAssets?.[widgetId] ?? [])];
    });
    const charts = ((await fresh.locator('meta[name="orrery-chart-files"]').getAttribute('content')) ?? '').split(' ').filter(Boolean);
    const entries = await fresh.evaluate(() => performance.getEntriesByType('resource').map((e) => ({ path: new URL(e.name).pathname, by: (e as PerformanceResourceTiming).initiatorType })));
    const entriesOf = (path: string) => entries.filter((e) => e.path === path);
    expect(expected.length).toBeGreaterThan(refs.length); // the widgets' module files are listed, not only the entries
    expect(charts.length).toBeGreaterThan(0);
    // the build wrote the host's own boot chunks into the page as preload links
    const bootFiles = (await fresh.locator('link[rel="preload"][href^="/assets/"]').evaluateAll((ls) => ls.map((l) => new URL((l as HTMLLinkElement).href).pathname)))
      .filter((p) => !charts.includes(p));
    expect(bootFiles.length).toBeGreaterThan(2);
    // each preloaded (initiator: a <link>) and fetched once
    for (const path of new Set([...expected, ...charts, ...bootFiles])) {
      expect(entriesOf(path), path).toEqual([{ path, by: 'link' }]);
    }
    // one request per widget data URL: nothing made the widgets fetch again
    expect(dataRequests.length).toBeGreaterThanOrEqual(3);
    expect(dataRequests.length).toBe(new Set(dataRequests).size);

    await visit.close();
    await api('PUT', '/api/v1/dashboards/mine', { doc: before.doc });
    await page.reload();
  }, 60_000);

  it('updates a live widget when an event is posted with a hook token, without a reload', async () => {
    await page.getByRole('button', { name: 'Add widget' }).first().click();
    await page.getByRole('dialog', { name: 'Add a widget' }).getByRole('button', { name: 'Add Live event stream' }).click();
    const live = page.locator('section.cell[data-widget="dashboards/live-activity"]');
    await live.getByText('Waiting for events').waitFor({ timeout: 20_000 });
    await page.locator('.live--live').waitFor({ timeout: 15_000 });

    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'browser test hook', kind: 'hook' });
    const event = {
      event_id: crypto.randomUUID(),
      event_type: 'agent_invocation',
      timestamp: new Date().toISOString(),
      department_id: 'eng',
      user_id: 'u-browser',
      session_id: 's-browser',
      agent_name: 'code-reviewer',
      agent_version: '1.0.0',
      invocation_id: crypto.randomUUID(),
      model_used: 'claude-sonnet-4-5',
      input_tokens: 100,
      output_tokens: 20,
      execution_time_ms: 400,
      status: 'success',
    };
    await api('POST', '/api/v1/events', event, token);
    await live.getByTestId('live-count').getByText('1', { exact: true }).waitFor({ timeout: 15_000 });
    await shot(page, '05-live-event');
    // the added widget's layout is saved after a pause: let it land, so that no save of this page
    // arrives after the next test has put its own layout (it did, and the next page showed this one)
    await expect.poll(async () => JSON.stringify(await api('GET', '/api/v1/dashboards/mine')), { timeout: 10_000 }).toContain('dashboards/live-activity');
    // opened again, the widget starts from the last minutes the server counted, not from nothing
    await page.reload();
    await live.getByTestId('live-count').getByText('1', { exact: true }).waitFor({ timeout: 20_000 });
    await live.getByRole('list', { name: 'Latest events' }).getByText('1 agent_invocation · code-reviewer').waitFor({ timeout: 5_000 });
  }, 60_000);

  it('keeps a layout change made just before leaving the dashboard', async () => {
    const count = async () => (JSON.stringify(await api('GET', '/api/v1/dashboards/mine')).match(/dashboards\/live-activity/g) ?? []).length;
    const before = await count();
    await page.getByRole('button', { name: 'Add widget' }).first().click();
    await page.getByRole('dialog', { name: 'Add a widget' }).getByRole('button', { name: 'Add Live event stream' }).click();
    // away at once, inside the save's pause, by the portal's own navigation
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' }).click();
    await expect.poll(count, { timeout: 10_000 }).toBe(before + 1);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  }, 60_000);

  it('draws a Sankey diagram with the trace fetched on first use, and axes in the user locale', async () => {
    // one chain: a parent invocation and the one it called
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'browser test chains', kind: 'hook' });
    const parent = crypto.randomUUID();
    const base = { event_type: 'agent_invocation', department_id: 'eng', user_id: 'u-browser', session_id: 's-chain', agent_version: '1.0.0', model_used: 'claude-sonnet-4-5', input_tokens: 100, output_tokens: 20, execution_time_ms: 400, status: 'success' };
    const chain = [crypto.randomUUID(), crypto.randomUUID()];
    await api('POST', '/api/v1/events', { ...base, event_id: chain[0], timestamp: new Date(Date.now() - 60_000).toISOString(), agent_name: 'planner', invocation_id: parent }, token);
    await api('POST', '/api/v1/events', { ...base, event_id: chain[1], timestamp: new Date(Date.now() - 50_000).toISOString(), agent_name: 'test-writer', invocation_id: crypto.randomUUID(), parent_invocation_id: parent }, token);
    await untilVisible(api, chain);

    const { plugins } = await api<{ plugins: Array<{ id: string; version: string; remote: { entry: string; widgetAssets?: Record<string, string[]> } | null }> }>('GET', '/api/v1/plugins');
    const before = await api<{ doc: unknown }>('GET', '/api/v1/dashboards/mine');
    const agents = plugins.find((p) => p.id === 'agent-analytics')!;
    await api('PUT', '/api/v1/dashboards/mine', { doc: { version: 1, items: [
      { i: 'chains', ref: 'agent-analytics/agent-chains', x: 0, y: 0, w: 12, h: 6, options: {}, pluginVersion: agents.version, optionsVersion: 1 },
      { i: 'cost', ref: 'agent-analytics/cost-tokens', x: 0, y: 6, w: 6, h: 4, options: {}, pluginVersion: agents.version, optionsVersion: 1 },
    ] } });

    const stored = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
    const visit = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    await visit.addInitScript((entries) => { for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v); }, stored);
    const fresh = await visit.newPage();
    const scripts: string[] = [];
    fresh.on('request', (r) => { if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname); });
    await fresh.goto(`${platform.url}/`);
    const cell = fresh.locator('section.cell[data-widget="agent-analytics/agent-chains"]');
    await cell.locator('.orrery-chart__plot .sankey').first().waitFor({ timeout: 30_000 });
    // both agents are nodes of the diagram
    await expect.poll(() => cell.locator('.orrery-chart__plot .sankey .node-label').allTextContents(), { timeout: 10_000 }).toEqual(expect.arrayContaining([expect.stringContaining('planner'), expect.stringContaining('test-writer')]));

    // a German page writes the currency after the amount on chart axes too, as the widget does
    const costTicks = fresh.locator('section.cell[data-widget="agent-analytics/cost-tokens"] .orrery-chart__plot .xtick text');
    await costTicks.first().waitFor({ timeout: 30_000 });
    const ticks = await costTicks.allTextContents();
    expect(ticks.length).toBeGreaterThan(1);
    for (const t of ticks) expect(t).toMatch(/^[\d.,]+\u00a0\$$/);

    // the chart library the page preloads has no Sankey: a chunk of its own came after it
    const charts = ((await fresh.locator('meta[name="orrery-chart-files"]').getAttribute('content')) ?? '').split(' ').filter(Boolean);
    const bootAndCharts = new Set([...charts, ...(await fresh.locator('link[rel="preload"]').evaluateAll((ls) => ls.map((l) => new URL((l as HTMLLinkElement).href).pathname)))]);
    const widgetFiles = new Set([agents.remote!.entry, ...Object.values(agents.remote!.widgetAssets ?? {}).flat()]);
    const onDemand = scripts.filter((p) => !bootAndCharts.has(p) && !widgetFiles.has(p) && !/\/main\.[0-9a-f]+\.js$/.test(p));
    expect(charts.length).toBeGreaterThan(0);
    expect(onDemand.length, `scripts fetched: ${scripts.join(', ')}`).toBeGreaterThan(0);
    await shot(fresh, '06-sankey-de');

    await visit.close();
    await api('PUT', '/api/v1/dashboards/mine', { doc: before.doc });
  }, 60_000);

  it('token page: create shows the secret once, list, revoke', async () => {
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Name').fill('ui token');
    await page.getByRole('button', { name: 'Create token' }).click();
    const value = page.getByLabel('New token value');
    await value.waitFor();
    expect(await value.inputValue()).toMatch(/\S{16,}/);
    await shot(page, '06-token-created');
    expect(await axeSerious(page)).toEqual([]);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke ui token' }).click();
    await page.getByRole('button', { name: 'Revoke ui token' }).waitFor({ state: 'detached' });
  }, 60_000);

  it('settings and account pages pass the accessibility scan', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Plugins' }).waitFor();
    await shot(page, '07-settings');
    expect(await axeSerious(page)).toEqual([]);
    await page.goto(`${platform.url}/me`);
    await page.getByRole('heading', { name: 'Time zone and formats' }).waitFor();
    expect(await axeSerious(page)).toEqual([]);
    await page.goto(`${platform.url}/`);
    await page.locator('section.cell').first().waitFor();
    expect(await axeSerious(page)).toEqual([]);
  }, 60_000);

  it('a widget goes when its plugin is turned off in Settings, and comes back when it is turned on', async () => {
    const { plugins } = await api<{ plugins: Array<{ id: string; title: string; remote: unknown; widgets: Array<{ id: string; title: string; roles?: string[] }> }> }>('GET', '/api/v1/plugins');
    // a feature plugin with widgets (agent-analytics ships them); the dashboards plugin cannot be turned off
    const other = plugins.find((p) => p.id === 'agent-analytics' && p.remote && p.widgets.length) ?? plugins.find((p) => p.id !== 'dashboards' && p.remote && p.widgets.length);
    expect(other, 'a feature plugin with widgets is installed').toBeTruthy();
    const w = other!.widgets.find((x) => !x.roles?.length || x.roles.includes('Admin'))!;
    const ref = `${other!.id}/${w.id}`;
    await page.goto(`${platform.url}/`);
    await page.getByRole('button', { name: 'Add widget' }).first().click();
    await page.getByRole('dialog', { name: 'Add a widget' }).getByRole('button', { name: `Add ${w.title}` }).click();
    const cell = page.locator(`section.cell[data-widget="${ref}"]`);
    await cell.first().waitFor();
    await page.getByText('All changes saved').waitFor();
    const before = (await api<{ doc: { items: Array<{ ref: string }> } }>('GET', '/api/v1/dashboards/mine')).doc.items.length;

    // the Admin turns the plugin off from the settings page, as a user would
    await page.getByRole('link', { name: 'Settings' }).click();
    const toggle = page.getByRole('switch', { name: `${other!.title} enabled` });
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(true);
    try {
      await toggle.dispatchEvent('click'); // the input sits under its styled track, low on a long list
      await page.getByText(`${other!.title} is now off`).waitFor();
      await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
      await page.locator('section.cell').first().waitFor();
      expect(await cell.count()).toBe(0);
      await page.getByText(/hidden because/).waitFor();
      await shot(page, '08-plugin-disabled');
      // the catalogue no longer offers it, and its routes answer 404 for this org
      await page.getByRole('link', { name: 'Catalogue' }).click();
      await page.getByRole('heading', { name: 'Widget catalogue' }).waitFor();
      expect(await page.getByRole('button', { name: `Add to dashboard ${w.title}` }).count()).toBe(0);
      // the saved layout still holds the widget: it comes back with the plugin
      expect((await api<{ doc: { items: Array<{ ref: string }> } }>('GET', '/api/v1/dashboards/mine')).doc.items.length).toBe(before);
      await page.getByRole('link', { name: 'Settings' }).click();
      await toggle.dispatchEvent('click');
      await page.getByText(`${other!.title} is now on`).waitFor();
    } finally {
      await api('PUT', `/api/v1/admin/plugins/${other!.id}`, { enabled: true });
    }
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await cell.first().waitFor();
    expect(await page.getByText(/hidden because/).count()).toBe(0);
  }, 90_000);

  it('a Developer’s suggested dashboard: their score, their team, a full grid, no serious accessibility violations', async () => {
    const email = `dev-${Date.now()}@browser.test`;
    const password = 'browser-dev-pass-1';
    const dev = await api<{ user_id?: string; id?: string }>('POST', '/api/v1/users', { email, role: 'Developer', password, display_name: 'Dee Veloper' });
    const userId = dev.user_id ?? dev.id!;
    // a day of their own activity and someone else's, scored now rather than on the next tick
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'developer page hook', kind: 'hook' });
    const events = [userId, userId, userId, 'u-colleague'].map((user, n) => ({
      event_id: crypto.randomUUID(), event_type: 'agent_invocation', timestamp: new Date(Date.now() - (n + 1) * 60_000).toISOString(),
      department_id: 'eng', user_id: user, session_id: `s-${user}`, agent_name: n % 2 ? 'test-writer' : 'code-reviewer', agent_version: '1.0.0',
      invocation_id: crypto.randomUUID(), model_used: 'claude-sonnet-4-5', input_tokens: 100, output_tokens: 20, execution_time_ms: 400,
      // the colleague's call failed: test-writer has the failures, while both agents have two calls
      ...(n === 3 ? { status: 'failure', error_type: 'timeout', error_message: 'no answer in time' } : { status: 'success' }),
    }));
    await api('POST', '/api/v1/events/batch', { events }, token);
    await untilVisible(api, events.map((e) => e.event_id));
    await api('POST', '/api/v1/adoption/admin/rescore', {});

    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'Europe/Berlin' });
    const p = await ctx.newPage();
    await p.goto(`${platform.url}/login`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('dialog', { name: 'One time range for every widget' }).waitFor({ timeout: 20_000 });
    await p.keyboard.press('Escape');
    const cells = p.locator('section.cell');
    await cells.first().waitFor();
    // every suggested widget is medium or wider, so the grid has no hole beside a small one
    const boxes = (await Promise.all((await cells.all()).map((c) => c.boundingBox()))).map((b) => b!);
    expect(boxes.length).toBeGreaterThanOrEqual(6);
    expect(new Set(boxes.map((b) => Math.round(b.width))).size).toBe(1);
    // their score, and a table comparing them with the org, row by row
    const score = p.locator('section.cell[data-widget="adoption/adoption-score"]');
    await score.locator('.orrery-chart__plot .main-svg').first().waitFor({ timeout: 30_000 });
    const team = p.locator('section.cell[data-widget="user-activity/team-comparison"]').getByRole('table', { name: 'You compared with your team and the org' });
    await team.waitFor({ timeout: 30_000 });
    expect(await team.getByRole('rowheader').allTextContents()).toEqual(['Events', 'Active days', 'Things used']);
    expect(await team.getByRole('row', { name: /Events/ }).getByRole('cell').first().textContent()).toBe('3');
    // latency and errors, with no agent chosen yet, show the busiest agent (a tie: the first by name) and the one that failed, and say which
    for (const [w, which] of [['agent-analytics/latency', 'code-reviewer, the busiest agent'], ['agent-analytics/error-trends', 'test-writer, the agent with the most failures']]) {
      const cell = p.locator(`section.cell[data-widget="${w}"]`);
      await cell.getByText(`Showing ${which} in this range; pick another in the widget’s settings.`, { exact: true }).waitFor({ timeout: 30_000 });
    }
    await p.locator('section.cell[data-widget="agent-analytics/latency"] .orrery-chart__plot .main-svg').first().waitFor({ timeout: 30_000 });
    await p.locator('.orrery-state--loading').first().waitFor({ state: 'detached', timeout: 30_000 }).catch(() => undefined);
    await shot(p, '10-developer-dashboard');
    expect(await axeSerious(p)).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('keeps the portal when a re-read of the session fails after another tab changed the tokens', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const stored = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage).filter(([k]) => k === 'orrery.session' || k.startsWith('orrery.tour.'))));
    const first = await ctx.newPage();
    await first.goto(`${platform.url}/login`);
    await first.evaluate((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, stored);
    await first.goto(`${platform.url}/`);
    await first.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    // the server fails the next reads of /me; a second tab writes the tokens again (as its refresh does)
    let failed = 0;
    await first.route('**/api/v1/me', (r) => { failed++; return r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"busy","details":null}}' }); });
    const second = await ctx.newPage();
    await second.goto(`${platform.url}/login`);
    await second.evaluate(() => localStorage.setItem('orrery.session', localStorage.getItem('orrery.session')!.replace(/}$/, ',"touched":1}')));
    await expect.poll(() => failed, { timeout: 10_000 }).toBeGreaterThan(0);
    await first.waitForTimeout(300);
    expect(await first.getByText('Orrery is not reachable').count()).toBe(0);
    await first.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor({ timeout: 1_000 });
    await ctx.close();
  }, 60_000);

  it('stacks widgets on a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    // the session lives in localStorage: copy it over instead of logging in again
    const stored = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage).filter(([k]) => k === 'orrery.session' || k.startsWith('orrery.tour.'))));
    await p.goto(`${platform.url}/login`);
    await p.evaluate((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, stored);
    await p.goto(`${platform.url}/`);
    const cells = p.locator('.react-grid-item');
    await cells.first().waitFor();
    const boxes = await Promise.all((await cells.all()).map((c) => c.boundingBox()));
    for (const b of boxes) expect(Math.round(b!.x)).toBe(Math.round(boxes[0]!.x));
    await shot(p, '09-phone');
    await phone.close();
  }, 60_000);
});

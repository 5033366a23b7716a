/**
 * The setup wizard of a new org, end to end on the real routes: a department, the
 * adoption settings, the SSO config block, a hook token whose test event is seen
 * arriving over the socket, and an invitation that a second browser accepts before the
 * Admin changes the new member's role. Each step is scanned with axe-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, SCREENSHOTS, shot, startPlatform, type Platform, explainFailures } from './harness.ts';

describe.skipIf(!hasChromium)('setup wizard in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  const step = (n: number, of = 5) => page.getByText(`Step ${n} of ${of}`, { exact: true });
  const next = () => page.getByRole('button', { name: /^(Continue|Finish)$/ }).click();
  explainFailures(() => ({ page, platform }));

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    api = await apiLogin(platform);
    const me = await api<{ user: { id: string } }>('GET', '/api/v1/me');
    // the first-run tour is tested in portal.test.ts; here it would only sit on top
    await context.addInitScript((uid) => localStorage.setItem(`orrery.tour.${uid}`, '{"how":"dismissed"}'), me.user.id);
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${platform.url}/login`);
    await page.getByLabel('Email').fill(platform.email);
    await page.getByLabel('Password').fill(platform.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    console.log(`browser screenshots: ${SCREENSHOTS}`);
  });

  it('the dashboard points a new org’s Admin at the wizard', async () => {
    await page.getByRole('heading', { name: /Finish setting up/ }).waitFor();
    await page.getByRole('link', { name: 'Open setup' }).click();
    await page.getByRole('heading', { name: 'Departments', level: 2 }).waitFor();
    await step(1).waitFor();
  }, 30_000);

  it('1. departments: adds one through the real route', async () => {
    await page.getByLabel('Department name').fill('Platform engineering');
    await page.getByRole('button', { name: 'Add department' }).click();
    await page.locator('.rows__row', { hasText: 'Platform engineering' }).waitFor();
    const { departments } = await api<{ departments: Array<{ name: string }> }>('GET', '/api/v1/departments');
    expect(departments.map((d) => d.name)).toContain('Platform engineering');
    await page.locator('.setup__step', { hasText: 'Departments' }).getByText('Done').waitFor();
    await shot(page, 'setup-1-departments');
    expect(await axeSerious(page)).toEqual([]);
    await next();
  }, 30_000);

  it('2. adoption thresholds: a form from the plugin’s own schema, saved to its route', async () => {
    await step(2).waitFor();
    const missing = page.getByText(/is not available on this server yet/);
    const form = page.getByRole('group', { name: /^Adoption settings/ });
    await Promise.race([missing.waitFor(), form.waitFor()]);
    if (await missing.count()) {
      // no adoption plugin in this build: the step says so and nothing is saved
      await shot(page, 'setup-2-adoption-missing');
    } else {
      // the preview answers before anything is saved, and again after each change
      await page.getByText(/would be flagged today/).waitFor();
      const windowDays = form.getByLabel(/^Window days/);
      await windowDays.fill('21');
      await page.getByText(/would be flagged today/).waitFor();
      expect(await page.getByRole('table').filter({ hasText: 'Everyone flagged' }).count()).toBe(1);
      await page.getByRole('button', { name: 'Save adoption settings' }).click();
      await page.getByText('Adoption settings saved.').waitFor();
      const saved = await api<Record<string, unknown>>('GET', '/api/v1/adoption/settings');
      expect(JSON.stringify(saved)).toContain('"windowDays":21');
      await shot(page, 'setup-2-adoption');
    }
    expect(await axeSerious(page)).toEqual([]);
    await next();
  }, 30_000);

  it('3. single sign-on: writes the config block, and says it needs a restart', async () => {
    await step(3).waitFor();
    await page.getByLabel('Button label').fill('Acme SSO');
    await page.getByLabel('Issuer URL').fill('https://login.acme.test');
    await page.getByLabel('Client id').fill('orrery-web');
    const yaml = await page.getByLabel('Config block for app-config.yaml').inputValue();
    expect(yaml).toContain('issuer: https://login.acme.test');
    expect(yaml).toContain('clientId: orrery-web');
    expect(yaml).toContain('autoJoinOrg: demo');
    expect(yaml).not.toMatch(/clientSecret: (?!\$\{)/); // the secret stays in the environment
    await page.getByText(/restart Orrery/).waitFor();
    await shot(page, 'setup-3-sso');
    expect(await axeSerious(page)).toEqual([]);
    await next();
  }, 30_000);

  it('4. hook: creates a token, sends a test event with it, and sees it arrive on the socket', async () => {
    await step(4).waitFor();
    await page.locator('.live--live').first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Create hook token' }).click();
    const token = await page.getByLabel('Hook token value').inputValue();
    expect(token.length).toBeGreaterThan(16);
    const curl = await page.getByLabel('curl command').inputValue();
    expect(curl).toContain(`Bearer ${token}`);
    expect(curl).toContain(`${platform.url}/api/v1/events`);
    const { tokens } = await api<{ tokens: Array<{ name: string; kind: string }> }>('GET', '/api/v1/tokens');
    expect(tokens.some((t) => t.name === 'Setup test hook' && t.kind === 'hook')).toBe(true);

    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText(/^Accepted \(202\)/).waitFor({ timeout: 15_000 });
    await page.getByText('Your test event arrived. Hooks are working.').waitFor({ timeout: 15_000 });
    await page.locator('.livefeed__list').getByText(/feature_use × 1/).waitFor();
    await page.getByRole('tab', { name: 'Event client (Node)' }).click();
    expect(await page.getByLabel('Event client example').inputValue()).toContain("createEventClient");
    await shot(page, 'setup-4-hook');
    expect(await axeSerious(page)).toEqual([]);
    await next();
  }, 45_000);

  it('5. people: invites someone who accepts in another browser, then changes their role', async () => {
    await step(5).waitFor();
    await page.getByLabel('Email', { exact: true }).fill('new.person@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('Manager');
    await page.getByRole('checkbox', { name: 'Platform engineering' }).check();
    await page.getByRole('button', { name: 'Send invitation' }).click();
    // no SMTP server in this run: the link is handed to the Admin instead
    const link = await page.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(/\/invite#token=/);
    await page.locator('.rows__row', { hasText: 'new.person@example.com' }).waitFor();
    await shot(page, 'setup-5-invited');

    const other = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await other.newPage();
    await p.goto(link);
    await p.getByRole('heading', { name: 'Join Demo' }).waitFor();
    expect(new URL(p.url()).hash).toBe(''); // the token leaves the address bar
    await p.getByLabel('Your name').fill('New Person');
    await p.getByLabel('Choose a password').fill('a-long-enough-password-1');
    await shot(p, 'setup-5b-accept-phone');
    expect(await axeSerious(p)).toEqual([]);
    await p.getByRole('button', { name: 'Join Demo' }).click();
    await p.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const who = await p.evaluate(async () => {
      const t = JSON.parse(localStorage.getItem('orrery.session')!).access_token as string;
      return (await (await fetch('/api/v1/me', { headers: { authorization: `Bearer ${t}` } })).json()) as { role: string; departments: Array<{ name: string }> };
    });
    expect(who.role).toBe('Manager');
    expect(who.departments.map((d) => d.name)).toEqual(['Platform engineering']);
    await other.close();

    await page.reload();
    const select = page.getByLabel('Role of New Person');
    await select.waitFor();
    await select.selectOption('Developer');
    await page.getByText('New Person is now a Developer.').waitFor();
    const { members } = await api<{ members: Array<{ email: string; role: string }> }>('GET', '/api/v1/members');
    expect(members.find((m) => m.email === 'new.person@example.com')?.role).toBe('Developer');
    await shot(page, 'setup-5-people');
    expect(await axeSerious(page)).toEqual([]);

    // an org of more people than one table should hold: a page at a time, and a search
    await Promise.all(Array.from({ length: 55 }, (_, n) => api('POST', '/api/v1/users', { email: `imported-${String(n).padStart(2, '0')}@example.com`, role: 'Developer', display_name: `Imported ${n}` })));
    await page.reload();
    const total = (await api<{ total: number }>('GET', '/api/v1/members?limit=1')).total;
    expect(total).toBeGreaterThan(55);
    await page.getByText(`Showing 50 of ${total} members`).waitFor();
    expect(await page.locator('.setup__main table tbody tr').count()).toBe(50);
    await page.getByRole('button', { name: `Show ${Math.min(50, total - 50)} more` }).click();
    await page.getByText(`Showing ${Math.min(100, total)} of ${total} members`).waitFor();
    await page.getByLabel('Find a member').fill('imported-4');
    await page.getByText('Showing 10 of 10 members matching “imported-4”').waitFor();
    expect(await page.locator('.setup__main table tbody th').allTextContents()).toEqual(Array.from({ length: 10 }, (_, n) => `Imported ${40 + n}imported-${40 + n}@example.com`));
    await page.getByLabel('Find a member').fill('nobody-here');
    await page.getByText('No member matches “nobody-here”.').waitFor();
    await next();
  }, 60_000);

  it('finishes with a summary, and the dashboard stops asking', async () => {
    await page.getByRole('heading', { name: 'Demo is set up' }).waitFor();
    for (const name of ['Departments', 'Hook and test event', 'People and roles']) {
      await page.locator('.setup__main .rows__row', { hasText: name }).getByText('Done').waitFor();
    }
    await shot(page, 'setup-6-done');
    await page.getByRole('link', { name: 'Go to the dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    expect(await page.getByRole('heading', { name: /Finish setting up/ }).count()).toBe(0);
  }, 30_000);

  it('counts what the server holds, not only what this browser’s wizard recorded', async () => {
    // another browser (or the same one after its storage is cleared) knows nothing of the
    // wizard: the departments, adoption settings, hook token and people are on the server,
    // single sign-on (a config file change, skipped here) is not
    const me = await api<{ user: { id: string }; org: { id: string } }>('GET', '/api/v1/me');
    await page.evaluate((k) => localStorage.removeItem(k), `orrery.setup.${me.org.id}.${me.user.id}`);
    await page.reload();
    const banner = page.getByRole('region', { name: /Finish setting up/ });
    await banner.getByText('4 of 5 steps done. Still to do: single sign-on.').waitFor();
    expect(await banner.getByRole('link', { name: 'Continue setup' }).getAttribute('href')).toBe('/setup?step=sso');
    await page.goto(`${platform.url}/settings`);
    await page.getByText(/4 of 5 steps done\./).waitFor();
    await page.goto(`${platform.url}/setup?step=done`);
    for (const name of ['Departments', 'Adoption thresholds', 'Hook and test event', 'People and roles']) {
      await page.locator('.setup__main .rows__row', { hasText: name }).getByText('Done').waitFor();
    }
    await page.locator('.setup__main .rows__row', { hasText: 'Single sign-on' }).getByText('To do').waitFor();
    await page.goto(platform.url);
  }, 30_000);

  it('lays the wizard out for a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    const stored = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage).filter(([k]) => k.startsWith('orrery.'))));
    await p.goto(`${platform.url}/login`);
    await p.evaluate((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, stored);
    await p.goto(`${platform.url}/setup?step=hook`);
    await p.getByRole('heading', { name: 'Hook and test event' }).waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(p, 'setup-phone-hook');
    await phone.close();
  }, 30_000);
});

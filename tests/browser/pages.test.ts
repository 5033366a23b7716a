/**
 * Plugin pages in Chromium: a page a plugin declares next to its widgets is listed in the
 * main navigation, opens at `/p/<plugin>/<page>`, reads its choices from the URL and writes
 * them back, so a link reopens the same view; a page of a plugin that is off says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, shot, signedInPage, startPlatform, type Platform, explainFailures } from './harness.ts';

describe.skipIf(!hasChromium)('plugin pages in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  explainFailures(() => ({ page, platform }));

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    api = await apiLogin(platform);
    const me = await api<{ user: { id: string } }>('GET', '/api/v1/me');
    page = await signedInPage(browser, platform, { tourDismissedFor: [me.user.id] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('the manifest lists a plugin’s pages for the roles it names', async () => {
    const { plugins } = await api<{ plugins: Array<{ id: string; pages?: Array<{ id: string; title: string; nav?: boolean }> }> }>('GET', '/api/v1/plugins');
    const exportsPlugin = plugins.find((p) => p.id === 'exports');
    expect(exportsPlugin?.pages?.map((p) => p.id)).toContain('data');
  });

  it('opens from the main navigation, keeps its choices in the URL and reopens from it', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    const direct = nav.getByRole('link', { name: 'Export data' });
    if (!(await direct.count())) await nav.locator('summary', { hasText: 'More' }).click();
    await nav.getByRole('link', { name: /Export data/ }).first().click();
    await page.getByRole('heading', { name: 'Export data', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/p/exports/data');
    await page.getByLabel('Format').selectOption('ndjson');
    await expect.poll(() => new URL(page.url()).searchParams.get('format')).toBe('ndjson');
    await page.getByLabel(/^Event type/).fill('agent_invocation');
    await expect.poll(() => new URL(page.url()).searchParams.get('eventType')).toBe('agent_invocation');
    await page.reload();
    await page.getByRole('heading', { name: 'Export data', level: 1 }).waitFor();
    expect(await page.getByLabel('Format').inputValue()).toBe('ndjson');
    expect(await page.getByLabel(/^Event type/).inputValue()).toBe('agent_invocation');
    await shot(page, 'plugin-page-exports');
    expect(await axeSerious(page)).toEqual([]);
  }, 60_000);

  it('adoption’s support flags page: filters in the URL, an empty state that says what it means', async () => {
    await page.goto(`${platform.url}/p/adoption/flags?kind=struggling`);
    await page.getByRole('heading', { name: 'Support flags', level: 1 }).waitFor();
    expect(await page.getByLabel('Kind').inputValue()).toBe('struggling');
    await page.getByText(/No open flags match these filters|people needing support/i).first().waitFor();
    await page.getByLabel('Kind').selectOption('');
    await expect.poll(() => new URL(page.url()).searchParams.has('kind')).toBe(false);
    expect(await axeSerious(page)).toEqual([]);
  }, 30_000);

  it('a page of a plugin that is not on says so instead of failing', async () => {
    await page.goto(`${platform.url}/p/no-such-plugin/anything`);
    await page.getByRole('heading', { name: 'Page not available', level: 1 }).waitFor();
    expect(await page.getByText(/is not turned on/).count()).toBe(1);
  }, 30_000);

  it('a page a plugin does not have lists the pages it does have', async () => {
    await page.goto(`${platform.url}/p/exports/no-such-page`);
    await page.getByRole('heading', { name: 'Page not available', level: 1 }).waitFor();
    const pages = page.getByRole('navigation', { name: /^Pages of / });
    // the exports plugin's pages in the main navigation, each a link that opens it
    expect(await pages.getByRole('link').count()).toBeGreaterThan(0);
    await pages.getByRole('link', { name: /Export data/ }).click();
    await page.getByRole('heading', { name: 'Export data', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/p/exports/data');
    expect(await axeSerious(page)).toEqual([]);
  }, 30_000);
});

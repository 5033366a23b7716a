/**
 * Real platform, real browser. The tests start `node scripts/start.mjs` on a free port with
 * a fresh data folder (or use ORRERY_URL + ORRERY_ADMIN_EMAIL/ORRERY_ADMIN_PASSWORD when set)
 * and drive Debian's chromium through playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type ConsoleMessage, type Page, type Request, type Response } from 'playwright-core';
import { afterEach, beforeEach } from 'vitest';
import { seedEmbeddedPostgres } from '@orrery/backend-test-utils/pglite';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
/** Where the screenshots go; printed at the end of a run. */
export const SCREENSHOTS = join(ROOT, 'test-results', 'browser-screenshots');

export interface Platform {
  url: string;
  email: string;
  password: string;
  /** the end of the platform's own output, for a failure's explanation */
  logTail(chars?: number): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Builds the portal and remotes if stale, one test process at a time: test files run in
 * parallel, and two rspack builds into one dist folder (cleaned on each build) break both.
 */
async function buildUi() {
  const lock = join(ROOT, '.tmp', 'ui-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock older than any build is left over from a killed run
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the UI build lock ${lock} was held for 3 min`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-ui.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`the UI build failed:\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function startPlatform(): Promise<Platform> {
  if (process.env.ORRERY_URL) {
    return {
      url: process.env.ORRERY_URL.replace(/\/$/, ''),
      email: process.env.ORRERY_ADMIN_EMAIL ?? 'admin@demo.local',
      password: process.env.ORRERY_ADMIN_PASSWORD ?? '',
      logTail: () => '(the platform runs elsewhere: ORRERY_URL)',
      stop: async () => undefined,
    };
  }
  await buildUi();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-browser-'));
  await seedEmbeddedPostgres(dataDir);
  const password = 'browser-test-pass-1';
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ORRERY_DATA_DIR: dataDir, ORRERY_ADMIN_PASSWORD: password, ORRERY_DEMO_DATA: 'false', ORRERY_ORG: 'demo', ORRERY_SKIP_UI_BUILD: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the platform exited (${child.exitCode}) before it answered:\n${log.slice(-4000)}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`the platform did not answer /health within 120 s:\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    email: 'admin@demo.local',
    password,
    logTail: (chars = 1500) => log.slice(-chars),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(undefined); else child.once('exit', r); setTimeout(r, 10_000); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'orrery-chromium-'));
  void profile; // playwright gives each launch a fresh profile; the flag list below mirrors STACK.md
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function shot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * A page signed in through the login form, on the dashboard, in a context of its own
 * (`context`: viewport, locale, time zone…). The first-visit tour is marked dismissed for
 * `tourDismissedFor` (user ids), so it does not cover what a test clicks; the files that test
 * the sign-in or the tour themselves do it by hand. Page errors go to the test's log.
 */
export async function signedInPage(browser: Browser, p: Platform, opts: { tourDismissedFor: string[]; email?: string; password?: string; context?: BrowserContextOptions }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London', ...opts.context });
  await context.addInitScript((uids) => {
    for (const u of uids) localStorage.setItem(`orrery.tour.${u}`, '{"how":"dismissed"}');
  }, opts.tourDismissedFor);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${p.url}/login`);
  await page.getByLabel('Email').fill(opts.email ?? p.email);
  await page.getByLabel('Password').fill(opts.password ?? p.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  return page;
}

/** API calls as the admin, for setup the UI does not need to show (tokens, events). */
export async function apiLogin(p: Platform) {
  const r = await fetch(`${p.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: p.email, password: p.password }) });
  if (!r.ok) throw new Error(`login: ${r.status} ${await r.text()}`);
  const { access_token } = (await r.json()) as { access_token: string };
  return async <T = unknown>(method: string, path: string, body?: unknown, token = access_token): Promise<T> => {
    const res = await fetch(`${p.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/**
 * A 2xx means the event is durable in the ingestion log; it is visible to queries once the
 * loader has moved it into ClickHouse (milliseconds later). Tests that send events and then
 * look at them wait for that, as a client reading its own writes would.
 */
export async function untilVisible(api: Awaited<ReturnType<typeof apiLogin>>, eventIds: string[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (const id of eventIds) {
    for (;;) {
      try {
        await api('GET', `/api/v1/events/${encodeURIComponent(id)}`);
        break;
      } catch (err) {
        if (!/: 404 /.test(String((err as Error).message)) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/** axe-core in the page; answers the violations at `serious` or `critical` impact. */
export async function axeSerious(page: Page) {
  const axePath = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
  await page.addScriptTag({ path: axePath });
  const res = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
}

/**
 * When a test of this file fails, a second error says what the page showed: its address,
 * its text, the page errors, failed requests and console errors seen since the last test,
 * and the end of the platform's log; a screenshot is kept too. A CI log keeps the failures'
 * messages, and a timeout alone does not say whether the page was slow, broken or elsewhere.
 */
export function explainFailures(current: () => { page?: Page; platform?: Platform }) {
  const seen = new WeakSet<Page>();
  let events: string[] = [];
  const watch = (page: Page) => {
    if (seen.has(page)) return;
    seen.add(page);
    const note = (line: string) => { events.push(`${new Date().toISOString().slice(11, 23)} ${line}`); if (events.length > 30) events.shift(); };
    // a listener that throws would fail the run as an unhandled error: these only take notes
    const safely = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => { try { f(...a); } catch { /* a note less */ } };
    page.on('pageerror', safely((e: Error) => note(`page error: ${e.message}`)));
    page.on('console', safely((m: ConsoleMessage) => { if (m.type() === 'error') note(`console: ${m.text().slice(0, 300)}`); }));
    page.on('response', safely((r: Response) => { if (r.status() >= 400) note(`${r.status()} ${r.request().method()} ${r.url()}`); }));
    page.on('requestfailed', safely((r: Request) => note(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`)));
  };
  beforeEach(() => {
    const { page } = current();
    if (page) watch(page);
  });
  let explained = false;
  afterEach(async (ctx) => {
    const { page, platform } = current();
    const failed = ctx.task.result?.state === 'fail';
    const lines = events;
    events = [];
    // the first failure of a file is the one to read: the later ones usually follow from it
    if (!failed || explained || !page || page.isClosed()) return;
    explained = true;
    let text: string;
    try {
      text = (await page.locator('body').innerText({ timeout: 5_000 })).replace(/\s+/g, ' ').slice(0, 1200);
      await shot(page, `failed-${ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
    } catch (e) {
      text = `(could not read the page: ${(e as Error).message.split('\n')[0]})`;
    }
    throw new Error([
      `the page at the failure: ${page.url()}`,
      `text: ${text}`,
      `since the previous test:${lines.length ? '\n  ' + lines.join('\n  ') : ' no page errors, failed requests or console errors'}`,
      `platform log, last lines other than requests answered below 400:\n${platformNotes(platform?.logTail(200_000) ?? '')}`,
    ].join('\n'));
  });
}

/** The platform's log without the routine lines: requests, and answers below 400. */
function platformNotes(log: string) {
  const lines = log.split('\n').filter((l) => l.trim() && !/"msg":"incoming request"/.test(l) && !/"statusCode":[123]\d\d\b/.test(l));
  return lines.slice(-12).map((l) => `  ${l.slice(0, 400)}`).join('\n') || '  (nothing)';
}

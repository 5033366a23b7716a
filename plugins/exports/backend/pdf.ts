/**
 * A dashboard as PDF: the real portal page, opened in headless Chromium as
 * the member it is rendered for (a short render session from the kernel), with
 * the range, zone and department set the way the portal keeps them, printed
 * once every widget shows its data and every chart is drawn. The header names
 * the org, the range and the zone.
 */
import { existsSync } from 'node:fs';
import { HttpError, type RenderSession } from '@orrery/plugin-sdk';

export type Paper = 'A4' | 'Letter';
export const INSTALL_HELP = 'install it with `apt-get install -y chromium` (Debian, Ubuntu), or point plugins.exports.chromiumPath (or CHROMIUM_PATH) at a Chromium binary';

export function chromiumPath(config: { chromiumPath?: string }): string {
  return config.chromiumPath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** 503 with the way out when the renderer is not installed. */
export function requireChromium(path: string) {
  if (!existsSync(path)) {
    throw new HttpError(503, 'chromium_missing', `PDF rendering needs Chromium, which is not installed at ${path}: ${INSTALL_HELP}`, {
      chromium_path: path,
      install: 'apt-get install -y chromium',
    });
  }
}

export interface RenderInput {
  /** where the portal is served, e.g. http://127.0.0.1:7007 */
  baseUrl: string;
  session: Pick<RenderSession, 'access_token' | 'refresh_token' | 'expires_in'>;
  userId: string;
  orgName: string;
  from: Date;
  to: Date;
  tz: string;
  paper: Paper;
  departmentId: string | null;
  chromium: string;
  timeoutMs?: number;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function headerText(orgName: string, from: Date, to: Date, tz: string): string {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  return `${orgName} · ${f.format(from)} – ${f.format(to)} · ${tz}`;
}

/** True on the frame where every cell is there, none loading, and every chart drawn (as the dashboard bench checks). */
const READY_CHECK = `(() => {
  if (document.body && document.body.textContent.includes('Your dashboard is empty')) return 'empty';
  const cells = [...document.querySelectorAll('section.cell')];
  if (!cells.length) return '';
  const done = cells.every((c) => {
    const body = c.querySelector('.cell__body');
    return body && !body.querySelector('.orrery-state--loading') && body.textContent.trim().length + body.querySelectorAll('svg, canvas, table').length > 0
      && [...body.querySelectorAll('.orrery-chart__plot')].every((p) => p.style.display === 'none' || p.querySelector('.main-svg'));
  });
  return done ? String(cells.length) : '';
})()`;

export async function renderDashboardPdf(input: RenderInput): Promise<{ pdf: Buffer; widgets: number }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: input.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const width = input.paper === 'A4' ? 1120 : 1150;
    const context = await browser.newContext({ viewport: { width, height: 1500 }, locale: 'en-US', timezoneId: input.tz });
    const pair = JSON.stringify({ access_token: input.session.access_token, refresh_token: input.session.refresh_token, expires_at: Date.now() + input.session.expires_in * 1000 });
    const state = {
      pair,
      uid: input.userId,
      range: JSON.stringify({ from: input.from.toISOString(), to: input.to.toISOString() }),
      prefs: JSON.stringify({ tz: input.tz, locale: 'en-US' }),
      dept: input.departmentId ?? '',
    };
    await context.addInitScript((st: typeof state) => {
      localStorage.setItem('orrery.session', st.pair);
      localStorage.setItem('orrery.prefs', st.prefs);
      localStorage.setItem(`orrery.tour.${st.uid}`, '{"how":"dismissed"}');
      sessionStorage.setItem('orrery.range', st.range);
      if (st.dept) sessionStorage.setItem('orrery.department', st.dept);
      else sessionStorage.removeItem('orrery.department');
    }, state);
    const page = await context.newPage();
    // the personal dashboard is the portal's root (`/dashboards` lists the named ones)
    await page.goto(`${input.baseUrl}/`, { waitUntil: 'domcontentloaded' });
    const deadline = Date.now() + (input.timeoutMs ?? 60_000);
    let ready = '';
    while (!ready) {
      if (Date.now() > deadline) throw new HttpError(504, 'render_timeout', `the dashboard did not finish drawing within ${(input.timeoutMs ?? 60_000) / 1000} s`);
      ready = (await page.evaluate(READY_CHECK)) as string;
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    await page.emulateMedia({ media: 'screen' });
    const header = escapeHtml(headerText(input.orgName, input.from, input.to, input.tz));
    const pdf = await page.pdf({
      format: input.paper,
      printBackground: true,
      displayHeaderFooter: true,
      margin: { top: '18mm', bottom: '14mm', left: '8mm', right: '8mm' },
      headerTemplate: `<div style="font-size:9px;width:100%;padding:0 8mm;font-family:sans-serif;color:#333">${header}</div>`,
      footerTemplate: '<div style="font-size:8px;width:100%;padding:0 8mm;font-family:sans-serif;color:#666;text-align:right"><span class="pageNumber"></span> / <span class="totalPages"></span></div>',
    });
    await context.close();
    return { pdf, widgets: ready === 'empty' ? 0 : Number(ready) };
  } finally {
    await browser.close().catch(() => undefined);
  }
}

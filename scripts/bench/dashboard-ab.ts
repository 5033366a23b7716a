/**
 * The 20-widget named dashboard of `dashboard.ts` (issue 18), loaded cold in headless Chromium
 * from two running platforms in turn (A B A B …), so that two builds of the portal are compared
 * in the same minutes on a shared machine. Each load: a fresh browser context after one new
 * event, timed until every cell shows its data and every chart is drawn (the same test as
 * `dashboard.ts`, word for word), with the page's main-thread work (Chromium's Performance
 * metrics) and the server process's CPU.
 *
 *   A_URL=http://127.0.0.1:7302 A_PID=<pid> B_URL=http://127.0.0.1:7301 B_PID=<pid> \
 *     npx tsx scripts/bench/dashboard-ab.ts [rounds=5]
 *
 * With TRACE=<file prefix>, one more load of each is recorded with Chromium's tracing
 * (devtools timeline categories) into `<prefix>-A.json` / `<prefix>-B.json`, and the main
 * thread's busiest task kinds and functions are printed.
 *
 * With DEFAULT=1, the Admin's own dashboard at / (its default: the portal's suggested layout)
 * instead of the named one.
 *
 * Both platforms run with the demo month and the bench's admin (admin@demo.local).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { shownScript } from './dashboardShown.ts';
import { chromium, type Browser } from 'playwright-core';

const rounds = Math.max(1, Number(process.argv[2] ?? 5));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EMAIL = 'admin@demo.local';
const PASSWORD = process.env.ORRERY_ADMIN_PASSWORD ?? 'Bench-dashboard-2026!';
const WIDGETS = Number(process.env.WIDGETS ?? 20);

interface Target { label: string; url: string; pid: number; token: string; session: string; userId: string; hook: string; department: string; path: string; widgets: number; sent: number }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}
function chromiumCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('chrom')) continue;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks * 10;
}
/** as dashboard.ts: the new window's own start-up work is not the portal's */
async function browserSettled() {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let last = chromiumCpuMs();
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    await sleep(250);
    const now = chromiumCpuMs();
    if (now - last < 25) return;
    last = now;
  }
}

async function connect(label: string, url: string, pid: number): Promise<Target> {
  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
  if (!login.ok) throw new Error(`${label} login: ${login.status}`);
  const pair = (await login.json()) as { access_token: string; refresh_token: string; expires_in: number };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${pair.access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    if (!r.ok) throw new Error(`${label} ${method} ${path}: ${r.status} ${await r.text()}`);
    const text = await r.text();
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const me = await call<{ user: { id: string }; role: string }>('GET', '/api/v1/me');
  const { plugins } = await call<{ plugins: Array<{ id: string; enabled?: boolean; remote: unknown; widgets: Array<{ id: string; roles?: string[] }> }> }>('GET', '/api/v1/plugins');
  const catalogue = plugins.filter((p) => p.enabled !== false && p.remote).flatMap((p) => p.widgets.filter((w) => !w.roles?.length || w.roles.includes(me.role)).map((w) => `${p.id}/${w.id}`));
  // the same dashboard as dashboard.ts: the built-in templates stacked, its first WIDGETS widgets
  const { templates } = await call<{ templates: Array<{ id: string; kind: string; doc: { items: Array<{ i: string; ref: string; y: number; h: number }> } }> }>('GET', '/api/v1/dashboards/templates');
  const items: Array<Record<string, unknown>> = [];
  let top = 0;
  for (const t of templates.filter((x) => x.kind === 'builtin')) {
    for (const it of t.doc.items) items.push({ ...it, i: `${t.id}-${it.i}`, y: it.y + top });
    top += Math.max(0, ...t.doc.items.map((it) => it.y + it.h));
  }
  const chosen = items.filter((it) => catalogue.includes(String(it.ref))).slice(0, WIDGETS);
  if (process.env.DEFAULT) {
    // the user's own dashboard at /: the Admin's default, as dashboard.ts measures it first
    await call('DELETE', '/api/v1/dashboards/mine');
    const mine = await call<{ doc: { items: Array<{ ref: string }> } | null }>('GET', '/api/v1/dashboards/mine');
    const n = mine.doc ? mine.doc.items.filter((i) => catalogue.includes(i.ref)).length : Math.min(8, catalogue.length);
    const hook = (await call<{ token: string }>('POST', '/api/v1/tokens', { name: 'dashboard-ab-bench', kind: 'hook' })).token;
    const { departments } = await call<{ departments: Array<{ id: string }> }>('GET', '/api/v1/departments');
    const session = JSON.stringify({ access_token: pair.access_token, refresh_token: pair.refresh_token, expires_at: Date.now() + pair.expires_in * 1000 });
    return { label, url, pid, token: pair.access_token, session, userId: me.user.id, hook, department: departments[0]?.id ?? 'none', path: '/', widgets: n, sent: 0 };
  }
  const named = await call<{ id: string }>('POST', '/api/v1/dashboards', { name: `A/B bench: ${chosen.length} widgets`, doc: { version: 1, items: chosen } });
  const hook = (await call<{ token: string }>('POST', '/api/v1/tokens', { name: 'dashboard-ab-bench', kind: 'hook' })).token;
  const { departments } = await call<{ departments: Array<{ id: string }> }>('GET', '/api/v1/departments');
  const session = JSON.stringify({ access_token: pair.access_token, refresh_token: pair.refresh_token, expires_at: Date.now() + pair.expires_in * 1000 });
  return { label, url, pid, token: pair.access_token, session, userId: me.user.id, hook, department: departments[0]?.id ?? 'none', path: `/d/${named.id}`, widgets: chosen.length, sent: 0 };
}

async function oneEvent(t: Target) {
  const r = await fetch(`${t.url}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.hook}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event_id: `dashboard-ab-${Date.now()}-${t.sent++}`, event_type: 'agent_invocation', timestamp: new Date().toISOString(), user_id: t.userId, department_id: t.department, session_id: 'dashboard-ab', agent_name: 'code-review', agent_version: '1.0.0', invocation_id: `dashboard-ab-${t.sent}`, model_used: 'claude-sonnet-4-5', input_tokens: 900, output_tokens: 200, execution_time_ms: 700, status: 'success' }),
  });
  if (r.status !== 202) throw new Error(`${t.label} event: ${r.status}`);
}

interface Load { toDataMs: number; mainThread: number; script: number; layout: number; style: number; serverCpu: number; charts: number; pushed: number }

async function load(b: Browser, t: Target, trace?: string): Promise<Load> {
  // NO_EVENT=1: nothing new since the last load (the answers are remembered)
  if (!process.env.NO_EVENT) await oneEvent(t);
  const context = await b.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  await context.addInitScript(([s, uid]) => {
    localStorage.setItem('orrery.session', s);
    localStorage.setItem(`orrery.tour.${uid}`, '{"how":"dismissed"}');
  }, [t.session, t.userId] as const);
  // the same test of all data shown as dashboard.ts
  await context.addInitScript(shownScript(t.widgets));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await browserSettled();
  await cdp.send('Performance.enable');
  const events: unknown[] = [];
  if (trace) {
    cdp.on('Tracing.dataCollected', (e: { value: unknown[] }) => events.push(...e.value));
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,disabled-by-default-v8.cpu_profiler,blink.user_timing', transferMode: 'ReportEvents' });
  }
  const cpu0 = cpuMs(t.pid);
  await page.goto(`${t.url}${t.path}`, { waitUntil: 'commit', timeout: 60_000 });
  let toDataMs = NaN;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const shown = await page.evaluate(() => (window as unknown as { __benchShown?: number }).__benchShown);
    if (shown !== undefined) { toDataMs = shown; break; }
  }
  const serverCpu = cpuMs(t.pid) - cpu0;
  const perf = new Map(((await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }).metrics.map((m) => [m.name, m.value * 1000]));
  // charts whose margins plotly had to widen after measuring their labels: each was drawn twice
  const margins = await page.evaluate(() => [...document.querySelectorAll('.orrery-chart__plot')].map((el) => {
    const gd = el as unknown as { _fullLayout?: { _size: Record<string, number> }; layout?: { margin?: Record<string, number> } };
    if (!gd._fullLayout) return false;
    const asked = gd.layout?.margin ?? {};
    return (['l', 'r', 't', 'b'] as const).some((k) => asked[k] !== undefined && gd._fullLayout!._size[k]! > asked[k]! + 1);
  }));
  if (trace) {
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.end');
    await done;
    writeFileSync(trace, JSON.stringify({ traceEvents: events }));
  }
  await context.close();
  if (Number.isNaN(toDataMs)) throw new Error(`${t.label}: not all shown within 60 s`);
  return { toDataMs, mainThread: perf.get('TaskDuration')!, script: perf.get('ScriptDuration')!, layout: perf.get('LayoutDuration')!, style: perf.get('RecalcStyleDuration')!, serverCpu, charts: margins.length, pushed: margins.filter(Boolean).length };
}

/** the main thread's trace: total time per top-level event name, and per function in the sampled profile */
function summarize(file: string, shownAt: number) {
  const { traceEvents } = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; ts: number; dur?: number; tid: number; pid: number; args?: any; cat: string }> };
  const main = traceEvents.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && traceEvents.some((x) => x.pid === e.pid && x.name === 'ParseHTML'));
  if (!main) return console.log('  (no renderer main thread in the trace)');
  const mine = traceEvents.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur);
  const by = new Map<string, number>();
  for (const e of mine) {
    const key = e.name === 'EvaluateScript' || e.name === 'v8.compile' ? `${e.name} ${String(e.args?.data?.url ?? '').replace(/^.*\//, '')}` : e.name;
    by.set(key, (by.get(key) ?? 0) + e.dur! / 1000);
  }
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 30);
  console.log(`  ${file} (shown at ${shownAt.toFixed(0)} ms): main-thread time by event (nested events counted in each):`);
  for (const [k, v] of top) console.log(`    ${v.toFixed(1).padStart(8)} ms  ${k}`);
  // sampled JS profile: self time per function
  const nodes = new Map<number, { callFrame: { functionName: string; url: string; lineNumber: number } }>();
  const self = new Map<string, number>();
  for (const e of traceEvents.filter((x) => x.pid === main.pid && (x.name === 'ProfileChunk'))) {
    const c = e.args?.data?.cpuProfile;
    for (const n of c?.nodes ?? []) nodes.set(n.id, n);
    const deltas: number[] = e.args?.data?.timeDeltas ?? [];
    (c?.samples ?? []).forEach((id: number, i: number) => {
      const n = nodes.get(id);
      if (!n) return;
      const k = `${n.callFrame.functionName || '(anon)'} ${(n.callFrame.url ?? '').replace(/^.*\//, '')}:${n.callFrame.lineNumber}`;
      self.set(k, (self.get(k) ?? 0) + (deltas[i] ?? 0) / 1000);
    });
  }
  const byFile = new Map<string, number>();
  for (const [k, v] of self) { const f = k.split(' ')[1]!.split(':')[0]!; byFile.set(f, (byFile.get(f) ?? 0) + v); }
  console.log('  sampled JavaScript self time by file:');
  for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${v.toFixed(1).padStart(8)} ms  ${k || '(native / idle / gc)'}`);
  console.log('  by function:');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`    ${v.toFixed(1).padStart(8)} ms  ${k}`);
}

if (process.env.SUMMARIZE) {
  summarize(process.env.SUMMARIZE, NaN);
  process.exit(0);
}
const targets = [
  await connect('A', process.env.A_URL ?? 'http://127.0.0.1:7302', Number(process.env.A_PID)),
  ...(process.env.B_URL ? [await connect('B', process.env.B_URL, Number(process.env.B_PID))] : []),
];
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  for (const t of targets) await load(browser, t); // warm-up: the server's first queries
  const results = new Map(targets.map((t) => [t.label, [] as Load[]]));
  const loads = [loadavg()[0]!.toFixed(2)];
  for (let i = 0; i < rounds; i++) {
    for (const t of i % 2 ? [...targets].reverse() : targets) {
      const r = await load(browser, t);
      results.get(t.label)!.push(r);
      console.log(`round ${i + 1} ${t.label}: shown at ${r.toDataMs.toFixed(0)} ms, main thread ${r.mainThread.toFixed(0)} ms (JS ${r.script.toFixed(0)} / layout ${r.layout.toFixed(0)} / style ${r.style.toFixed(0)}), server CPU ${r.serverCpu} ms, ${r.pushed} of ${r.charts} charts drawn again for wider margins`);
    }
  }
  loads.push(loadavg()[0]!.toFixed(2));
  const m = (label: string, f: (l: Load) => number) => median(results.get(label)!.map(f));
  for (const t of targets) {
    console.log(`${t.label} (${t.url}, ${t.widgets} widgets): median shown ${m(t.label, (l) => l.toDataMs).toFixed(0)} ms, main thread ${m(t.label, (l) => l.mainThread).toFixed(0)} ms (JS ${m(t.label, (l) => l.script).toFixed(0)} / layout ${m(t.label, (l) => l.layout).toFixed(0)} / style ${m(t.label, (l) => l.style).toFixed(0)}), server CPU ${m(t.label, (l) => l.serverCpu).toFixed(0)} ms`);
  }
  if (targets.length === 2) {
    const a = results.get('A')!;
    const b = results.get('B')!;
    const ratios = b.map((x, i) => x.toDataMs / a[i]!.toDataMs);
    const mt = b.map((x, i) => x.mainThread / a[i]!.mainThread);
    console.log(`B/A per round, shown: ${ratios.map((r) => r.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(2)}); main thread: median ${median(mt).toFixed(2)}`);
  }
  console.log(`load average (1 min): ${loads.join(' → ')}`);
  if (process.env.TRACE) {
    for (const t of targets) {
      const file = `${process.env.TRACE}-${t.label}.json`;
      const r = await load(browser, t, file);
      summarize(file, r.toDataMs);
    }
  }
} finally {
  await browser.close();
}

/**
 * The data requests of the 25-widget named dashboard (the five built-in templates one under
 * the other), replayed against a running platform: each request alone (server time, and the
 * server process's CPU per request from /proc), then all of them at once as the page asks
 * them. Says which routes the dashboard's time goes to, and how much CPU each one costs on
 * the two cores the page's requests share.
 *
 *   ORRERY_URL=http://127.0.0.1:7400 SERVER_PID=<pid> [BASE_URL=… BASE_PID=…] npx tsx scripts/bench/dashboard-routes.ts [runs=5]
 *
 * The platform must run with the demo month (the `dashboard.ts` bench's set-up: admin@demo.local).
 * Every request sends `Cache-Control: no-cache` (an answer computed now), after one new event.
 * With BASE_URL and BASE_PID (a second platform on a copy of the same data, e.g. the code before
 * a change), every request goes to both in turn and each figure is printed with its ratio to the
 * baseline's, measured in the same run.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';

interface Target { label: string; url: string; pid: number; auth: Record<string, string>; hook: string; userId: string; department: string; sent: number }
const url = process.env.ORRERY_URL ?? 'http://127.0.0.1:7400';
const runs = Math.max(1, Number(process.argv[2] ?? 5));
const EMAIL = process.env.ORRERY_ADMIN_EMAIL ?? 'admin@demo.local';
const PASSWORD = process.env.ORRERY_ADMIN_PASSWORD ?? 'Bench-dashboard-2026!';
const HOST_PATHS = [/^\/api\/v1\/me$/, /^\/api\/v1\/plugins$/, /^\/api\/v1\/dashboards\//, /^\/api\/v1\/auth\//, /^\/api\/v1\/notifications/, /^\/api\/docs/];

/** CPU time (ms) used so far by a server process */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

async function connect(label: string, base: string, pid: number): Promise<Target> {
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
  const pair = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${pair.access_token}` };
  const get = async <T>(path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, { method: body ? 'POST' : 'GET', headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    if (!r.ok) throw new Error(`${label} ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const me = await get<{ user: { id: string } }>('/api/v1/me');
  const { departments } = await get<{ departments: Array<{ id: string }> }>('/api/v1/departments');
  const hook = (await get<{ token: string }>('/api/v1/tokens', { name: 'dashboard-routes-bench', kind: 'hook' })).token;
  return { label, url: base, pid, auth, hook, userId: me.user.id, department: departments[0]?.id ?? 'none', sent: 0 };
}
const targets = [await connect('new', url, Number(process.env.SERVER_PID))];
if (process.env.BASE_URL) targets.push(await connect('baseline', process.env.BASE_URL, Number(process.env.BASE_PID)));
const main = targets[0]!;

const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: EMAIL, password: PASSWORD }) });
const pair = (await login.json()) as { access_token: string; refresh_token: string; expires_in: number };
const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const r = await fetch(`${url}${path}`, { method, headers: { ...main.auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  const t = await r.text();
  return (t ? JSON.parse(t) : undefined) as T;
};
const me = { user: { id: main.userId } };
/** one event committed, as an org where agents are at work: every answer is computed anew */
const commitOneEvent = async (t: Target) => {
  const r = await fetch(`${t.url}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.hook}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event_id: `dashboard-routes-${Date.now()}-${t.sent++}`, event_type: 'agent_invocation', timestamp: new Date().toISOString(), user_id: t.userId, department_id: t.department, session_id: 'dashboard-routes', agent_name: 'code-review', agent_version: '1.0.0', invocation_id: `dashboard-routes-${t.sent}`, model_used: 'claude-sonnet-4-5', input_tokens: 900, output_tokens: 200, execution_time_ms: 700, status: 'success' }),
  });
  if (r.status !== 202) throw new Error(`POST /api/v1/events: ${r.status}`);
  await new Promise((r) => setTimeout(r, 300));
};

// the page's data requests, as Chromium sends them
const { templates } = await call<{ templates: Array<{ id: string; kind: string; doc: { items: Array<{ i: string; y: number; h: number }> } }> }>('GET', '/api/v1/dashboards/templates');
const items: Array<Record<string, unknown>> = [];
let top = 0;
for (const t of templates.filter((x) => x.kind === 'builtin')) {
  for (const it of t.doc.items) items.push({ ...it, i: `${t.id}-${it.i}`, y: it.y + top });
  top += Math.max(0, ...t.doc.items.map((it) => it.y + it.h));
}
const named = await call<{ id: string }>('POST', '/api/v1/dashboards', { name: 'Benchmark: routes', doc: { version: 1, items } });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
await context.addInitScript(([s, uid]) => {
  localStorage.setItem('orrery.session', s);
  localStorage.setItem(`orrery.tour.${uid}`, '{"how":"dismissed"}');
}, [JSON.stringify({ access_token: pair.access_token, refresh_token: pair.refresh_token, expires_at: Date.now() + pair.expires_in * 1000 }), me.user.id] as const);
const page = await context.newPage();
const requests = new Map<string, { method: string; url: string; body?: string }>();
page.on('request', (r) => {
  const u = new URL(r.url());
  if (!u.pathname.startsWith('/api/v1/') || HOST_PATHS.some((p) => p.test(u.pathname))) return;
  requests.set(`${r.method()} ${r.url()} ${r.postData() ?? ''}`, { method: r.method(), url: r.url(), body: r.postData() ?? undefined });
});
await page.goto(`${url}/d/${named.id}`);
await page.waitForTimeout(15_000);
await browser.close();
await call('DELETE', `/api/v1/dashboards/${named.id}`);
const list = [...requests.values()];
const name = (q: { method: string; url: string }) => `${q.method} ${new URL(q.url).pathname.replace('/api/v1/', '')}`;
console.log(`${list.length} data requests; load average ${load()}`);

const ask = async (t: Target, q: { method: string; url: string; body?: string }) => {
  const u = new URL(q.url);
  const started = performance.now();
  const r = await fetch(`${t.url}${u.pathname}${u.search}`, { method: q.method, headers: { ...t.auth, 'cache-control': 'no-cache', ...(q.body ? { 'content-type': 'application/json' } : {}) }, body: q.body });
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`${t.label} ${name(q)}: ${r.status}`);
  return performance.now() - started;
};

const alone = new Map<string, Map<string, { wall: number[]; cpu: number[] }>>(targets.map((t) => [t.label, new Map()]));
const together = new Map<string, Array<{ wall: number; cpu: number }>>(targets.map((t) => [t.label, []]));
for (let i = 0; i < runs; i++) {
  // alone, one after another, the targets in turn
  for (const q of list) {
    for (const t of targets) {
      await commitOneEvent(t);
      const c = cpuMs(t.pid);
      const wall = await ask(t, q);
      const by = alone.get(t.label)!;
      const e = by.get(name(q)) ?? { wall: [], cpu: [] };
      e.wall.push(wall);
      e.cpu.push(cpuMs(t.pid) - c);
      by.set(name(q), e);
    }
  }
  // all at once, as the page asks them
  for (const t of targets) {
    await commitOneEvent(t);
    const c = cpuMs(t.pid);
    const started = performance.now();
    await Promise.all(list.map((q) => ask(t, q)));
    together.get(t.label)!.push({ wall: performance.now() - started, cpu: cpuMs(t.pid) - c });
  }
}
const ratio = (a: number, b: number | undefined) => (b ? ` (${(a / b).toFixed(2)}×)` : '');
const base = targets[1]?.label;
console.log(`each request alone, after one new event, median of ${runs}: wall ms, server CPU ms${base ? '; in brackets the ratio to the baseline' : ''}:`);
const mine = alone.get('new')!;
const theirs = base ? alone.get(base)! : null;
const rows = [...mine].sort((a, b) => median(b[1].cpu) - median(a[1].cpu));
for (const [n, e] of rows) {
  const o = theirs?.get(n);
  console.log(`  ${median(e.wall).toFixed(0).padStart(6)} ${median(e.cpu).toFixed(0).padStart(6)}${o ? `   baseline ${median(o.wall).toFixed(0).padStart(6)} ${median(o.cpu).toFixed(0).padStart(6)}${ratio(median(e.cpu), median(o.cpu))}` : ''}  ${n}`);
}
for (const t of targets) {
  const sum = [...alone.get(t.label)!.values()].reduce((s, e) => s + median(e.cpu), 0);
  const all = together.get(t.label)!;
  console.log(`${t.label}: sum of the medians alone, CPU ${sum.toFixed(0)} ms; all ${list.length} at once: wall ${median(all.map((x) => x.wall)).toFixed(0)} ms, server CPU ${median(all.map((x) => x.cpu)).toFixed(0)} ms (runs wall/CPU: ${all.map((x) => `${x.wall.toFixed(0)}/${x.cpu.toFixed(0)}`).join(', ')})`);
}
console.log(`load average ${load()}`);

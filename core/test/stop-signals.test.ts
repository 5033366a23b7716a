/**
 * `npm start`'s stop, as a person at a terminal meets it: the platform (core/src/main.ts, every
 * first-party plugin, embedded stores) takes an event, gets Ctrl-C, and a second Ctrl-C while it
 * is stopping ends it at once. The event it answered is stored after the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedEmbeddedPostgres } from '@orrery/backend-test-utils/pglite';
import { invocation } from '../src/ingestion/test/helpers.ts';

const PASSWORD = 'Stop-signals-passw0rd!';
const root = join(import.meta.dirname, '..', '..');

interface Platform {
  child: ChildProcess;
  url: string;
  /** everything it printed on stdout so far */
  out(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function start(dataDir: string): Promise<Platform> {
  await seedEmbeddedPostgres(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'core/src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ORRERY_DATA_DIR: dataDir, ORRERY_DEMO_DATA: 'false', ORRERY_ADMIN_PASSWORD: PASSWORD, ORRERY_METRICS_LISTENER: 'false' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  for (const end = Date.now() + 120_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    if (url) return { child, url, out: () => out, exited };
    if (child.exitCode !== null) throw new Error(`the platform exited while starting: ${out}`);
  }
  child.kill('SIGKILL');
  throw new Error(`the platform did not start: ${out}`);
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}

async function login(url: string) {
  const r = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@demo.local', password: PASSWORD }) });
  return ((await r.json()) as { access_token: string }).access_token;
}

/**
 * An event request whose body is only half sent: the server has it in flight until the socket
 * ends. `Expect: 100-continue` makes the server say when it has read the headers, so the request
 * is known to be in flight (a connection the server has read nothing from is closed at once by
 * the stop, as a spare one).
 */
async function requestInFlight(url: string, token: string): Promise<Socket & { answer(): string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname) as Socket & { answer(): string };
  await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
  let answer = '';
  socket.on('data', (d) => (answer += d));
  socket.on('error', () => undefined); // reset by the forced end
  socket.answer = () => answer;
  const body = JSON.stringify(invocation());
  socket.write(`POST /api/v1/events HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\nauthorization: Bearer ${token}\r\nexpect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`);
  await until('the server to read the request', () => answer.includes('100 Continue'), 30_000);
  socket.write(body.slice(0, body.length >> 1));
  return socket;
}

describe('stopping npm start', () => {
  it('a second Ctrl-C during the stop ends the process at once, and the answered event is stored after the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orrery-stop-'));
    let p: Platform | null = null;
    let held: (Socket & { answer(): string }) | null = null;
    try {
      p = await start(dataDir);
      const access = await login(p.url);
      const hook = ((await (await fetch(`${p.url}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` }, body: JSON.stringify({ name: 'stop', kind: 'hook' }) })).json()) as { token: string }).token;
      const ev = invocation();
      const res = await fetch(`${p.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hook}` }, body: JSON.stringify(ev) });
      expect(res.status).toBe(202);

      // a request still arriving holds the stop (the HTTP server waits for it), as a slow client
      // would: without it a quiet machine can finish the stop before the second Ctrl-C lands
      held = await requestInFlight(p.url, hook);
      p.child.kill('SIGINT');
      await until('the first SIGINT to be taken', () => p!.out().includes('SIGINT — stopping'));
      // the stop waits for the held request
      await new Promise((r) => setTimeout(r, 1000));
      expect(p.child.exitCode, `the held request was answered: ${held.answer()}\n${p.out()}`).toBeNull();
      p.child.kill('SIGINT');
      const { signal } = await p.exited;
      // ended by itself at once: a clean stop would have exited 0
      expect(signal).toBe('SIGKILL');
      expect(p.out()).toContain('second SIGINT — ending now');

      p = await start(dataDir);
      const again = await login(p.url);
      await until('the answered event to be stored', async () => (await fetch(`${p!.url}/api/v1/events/${ev.event_id}`, { headers: { authorization: `Bearer ${again}` } })).status === 200);
      const stored = (await (await fetch(`${p.url}/api/v1/events/${ev.event_id}`, { headers: { authorization: `Bearer ${again}` } })).json()) as Record<string, unknown>;
      expect(stored).toMatchObject({ event_id: ev.event_id, agent_name: ev.agent_name });

      // one Ctrl-C alone is a clean stop
      p.child.kill('SIGINT');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(p.out()).not.toContain('second SIGINT');
      p = null;
    } finally {
      held?.destroy();
      if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});

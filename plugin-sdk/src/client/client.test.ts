/**
 * The event client against a real HTTP server started here that speaks the
 * batch contract (and fails on command), and a host process killed with
 * SIGKILL to prove the on-disk buffer.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createEventClient, backoffDelay } from './index.ts';

interface Receiver {
  url: string;
  server: Server;
  /** every event_id the server stored (once each) */
  stored: Set<string>;
  received: string[];
  requests: number;
  /** answer this many next requests with 503 */
  failNext: number;
  close(): Promise<void>;
}

async function receiver(port = 0): Promise<Receiver> {
  const r = { stored: new Set<string>(), received: [] as string[], requests: 0, failNext: 0 } as Receiver;
  r.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      r.requests++;
      if (req.headers.authorization !== 'Bearer hook-1') return void res.writeHead(401).end('{}');
      if (r.failNext > 0) {
        r.failNext--;
        return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"commit_failed"}}');
      }
      const { events } = JSON.parse(body) as { events: Array<{ event_id: string; user_id?: string }> };
      const results = events.map((e) => {
        r.received.push(e.event_id);
        if (!e.user_id) return { event_id: e.event_id, status: 'invalid', error: { code: 'invalid_event', message: 'user_id: required' } };
        if (r.stored.has(e.event_id)) return { event_id: e.event_id, status: 'duplicate' };
        r.stored.add(e.event_id);
        return { event_id: e.event_id, status: 'accepted' };
      });
      const accepted = results.filter((x) => x.status === 'accepted').length;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted, rejected: results.length - accepted, results }));
    });
  });
  await new Promise<void>((ok) => r.server.listen(port, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
  r.close = () => new Promise((ok) => r.server.close(() => ok()));
  return r;
}

const feature = (i: number) => ({ event_type: 'feature_use' as const, feature_name: 'inline-chat', user_id: `u-${i % 7}` });

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'orrery-client-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('event client', () => {
  it('batches, and reports events the server refuses for good', async () => {
    const srv = await receiver();
    const refused: string[] = [];
    const c = createEventClient({ url: srv.url, token: 'hook-1', batchSize: 500, flushIntervalMs: 50, onRejected: (e) => refused.push(e.event_id) });
    const ids = Array.from({ length: 1200 }, (_, i) => c.track(feature(i)));
    const bad = c.track({ event_type: 'feature_use', feature_name: 'x' } as never);
    await c.flush();
    expect(srv.requests).toBe(3);
    expect(ids.every((id) => srv.stored.has(id))).toBe(true);
    expect(refused).toEqual([bad]);
    expect(c.stats).toMatchObject({ tracked: 1201, accepted: 1200, rejected: 1 });
    await c.close();
    await srv.close();
  });

  it('retries with backoff and resends the same event ids', async () => {
    const srv = await receiver();
    srv.failNext = 3;
    const c = createEventClient({ url: srv.url, token: 'hook-1', batchSize: 100, flushIntervalMs: 10, retryBaseMs: 20, retryMaxMs: 200 });
    const ids = Array.from({ length: 50 }, (_, i) => c.track(feature(i)));
    await c.flush();
    expect(c.stats.retries).toBe(3);
    expect(srv.received.length).toBe(50);
    expect(new Set(srv.received)).toEqual(new Set(ids));
    await c.close();
    await srv.close();
  });

  it('treats the answer "duplicate" as delivered (idempotent resend after a lost answer)', async () => {
    const srv = await receiver();
    const c = createEventClient({ url: srv.url, token: 'hook-1', flushIntervalMs: 10 });
    const id = c.track({ ...feature(1), event_id: 'fixed-id' });
    srv.stored.add(id); // the first copy was stored but its answer never came back
    await c.flush();
    expect(c.stats).toMatchObject({ duplicates: 1, accepted: 0 });
    expect(c.pending).toBe(0);
    await c.close();
    await srv.close();
  });

  it('keeps events on disk while the server is down and sends them after a restart of the host (SIGKILL)', async () => {
    // the host runs in its own process, tracks while nothing listens, and is killed without warning
    const port = 20000 + Math.floor(Math.random() * 20000);
    const script = `
      import { createEventClient } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
      const c = createEventClient({ url: 'http://127.0.0.1:${port}', token: 'hook-1', bufferDir: ${JSON.stringify(dir)}, flushIntervalMs: 20, retryBaseMs: 20, retryMaxMs: 100 });
      const ids = [];
      for (let i = 0; i < 300; i++) ids.push(c.track({ event_type: 'feature_use', feature_name: 'f', user_id: 'u' + (i % 5) }));
      process.stdout.write(JSON.stringify(ids) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ids: string[] = await new Promise((ok) => {
      let out = '';
      child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) ok(JSON.parse(out.split('\n')[0]!)); });
    });
    await new Promise((r) => setTimeout(r, 200)); // it retries against a closed port meanwhile
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const srv = await receiver(port);
    const c = createEventClient({ url: srv.url, token: 'hook-1', bufferDir: dir, flushIntervalMs: 10 });
    expect(c.pending).toBe(300);
    await c.flush();
    expect(srv.stored.size).toBe(300);
    expect(ids.every((id) => srv.stored.has(id))).toBe(true);
    await c.close();
    // acknowledged events are not sent again by the next start
    const again = createEventClient({ url: srv.url, token: 'hook-1', bufferDir: dir });
    expect(again.pending).toBe(0);
    await again.close();
    await srv.close();
  }, 30_000);

  it('spreads retry delays with full jitter under an exponential cap', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0.999)).toBe(99);
    expect(backoffDelay(5, 100, 10_000, () => 0.5)).toBe(1600);
    expect(backoffDelay(20, 100, 10_000, () => 0.999)).toBe(9990);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(0);
  });
});

/**
 * A plugin route's `req.signal` (SDK 2.2) and the kernel's stop, over real HTTP: a stream
 * whose client leaves stops waiting at once; a stop ends the streams still open and does not
 * wait for connections that never sent a request; a connection holding half a request is cut
 * after `server.shutdownGraceMs`, not after Node's one-minute header timeout.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { definePlugin, RawReply } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

/** what each stream's handler saw: when it began, when its signal aborted and why, when it ended */
interface Seen { began: number; abortedAt?: number; reason?: string; ended?: number }
const seen: Seen[] = [];

/** A stream that sends one line, then waits a minute for the next unless its signal aborts. */
const slow = definePlugin({
  id: 'slow-stream',
  version: '1.0.0',
  sdk: '^2.2.0',
  title: 'Slow stream',
  description: 'a plugin whose route streams with long waits between chunks',
  routePrefix: 'slow',
  permissions: { 'slow.read': ['Admin'] },
  register(env) {
    env.route({
      method: 'GET',
      path: '/stream',
      permission: 'slow.read',
      summary: 'one line, then a long wait',
      async handler(req) {
        const s: Seen = { began: Date.now() };
        seen.push(s);
        req.signal.addEventListener('abort', () => {
          s.abortedAt = Date.now();
          s.reason = String((req.signal.reason as Error)?.message ?? req.signal.reason);
        });
        async function* lines() {
          try {
            yield 'first\n';
            await wait(60_000, undefined, { signal: req.signal }).catch(() => undefined);
            if (!req.signal.aborted) yield 'second\n';
          } finally {
            s.ended = Date.now();
          }
        }
        return new RawReply(lines(), { 'content-type': 'text/plain; charset=utf-8' });
      },
    });
  },
});

/** Opens the stream and resolves once its first line arrived, with a way to leave. */
async function openStream(b: TestBackend) {
  const ac = new AbortController();
  const res = await fetch(`${b.url}/api/v1/slow/stream`, { headers: { authorization: `Bearer ${b.client.token}` }, signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toBe('first\n');
  /** the rest of the body as the client sees it: resolves when the server ends it */
  const rest = (async () => {
    let text = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { text, ended: true };
        text += new TextDecoder().decode(value);
      }
    } catch {
      return { text, ended: false };
    }
  })();
  return { leave: () => ac.abort(), rest };
}

const rawConnection = (url: string) =>
  new Promise<Socket>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port), hostname, () => resolve(s));
    s.on('error', reject);
  });
const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('plugin streams and the kernel stop', () => {
  const backends: TestBackend[] = [];
  afterAll(async () => {
    for (const b of backends) await b.close().catch(() => undefined);
  });

  it('a stream whose client leaves is told at once; a stop ends the open ones and skips connections with no request', async () => {
    const b = await startTestBackend({ plugins: [slow], listen: true });
    backends.push(b);
    seen.length = 0;

    const leaving = await openStream(b);
    const t0 = Date.now();
    leaving.leave();
    await expect.poll(() => seen[0]?.ended, { timeout: 5_000 }).toBeDefined();
    expect(seen[0]!.reason).toBe('the client closed the connection');
    expect(seen[0]!.abortedAt! - t0).toBeLessThan(2_000); // not the minute the handler waits for its next line

    const staying = await openStream(b);
    const idle = await rawConnection(b.url!); // connected, never sends a byte (a client's spare connection)
    const t1 = Date.now();
    await b.close();
    const took = Date.now() - t1;
    // the grace (10 s by default) is not waited: the stream ended on the stop's signal, the idle connection was cut
    expect(took).toBeLessThan(5_000);
    expect(seen[1]!.reason).toBe('the platform is shutting down');
    expect(seen[1]!.ended).toBeDefined();
    const rest = await staying.rest;
    expect(rest).toEqual({ text: '', ended: true }); // the body ended cleanly, without its second line
    await closed(idle);
  }, 60_000);

  it('a connection holding half a request is cut after the grace, not after the header timeout', async () => {
    const b = await startTestBackend({ plugins: [slow], listen: true, config: { server: { shutdownGraceMs: 300 } } });
    backends.push(b);
    const half = await rawConnection(b.url!);
    half.write('GET /api/v1/slow/stream HTTP/1.1\r\nHost: localhost\r\n'); // no blank line: the headers never end
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await b.close();
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5_000);
    await closed(half);
  }, 60_000);
});

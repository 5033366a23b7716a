import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { LazyRequestLogger, lazyChildLoggerFactory } from './lazyLogger.ts';

function capture(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  return { logger: pino({ level }, stream), lines };
}

describe('lazy request logger', () => {
  it('writes nothing and makes no child below its level, writes with its bindings at or above it', () => {
    const { logger, lines } = capture('info');
    const made: unknown[] = [];
    const child = logger.child.bind(logger);
    (logger as unknown as { child: typeof child }).child = (b, o) => (made.push(b), child(b, o));
    const l = new LazyRequestLogger(logger, { reqId: 'r1' }, { level: 'warn' });
    l.info('quiet');
    l.debug({ a: 1 }, 'quiet too');
    expect(made).toHaveLength(0);
    expect(l.isLevelEnabled('info')).toBe(false);
    expect(l.isLevelEnabled('error')).toBe(true);
    l.warn({ x: 2 }, 'loud');
    l.error('louder');
    expect(made).toHaveLength(1);
    return new Promise<void>((ok) => setImmediate(() => {
      expect(lines.map((x) => [x.msg, x.reqId, x.level])).toEqual([['loud', 'r1', 40], ['louder', 'r1', 50]]);
      expect(lines[0]!.x).toBe(2);
      ok();
    }));
  });

  it('serves fastify: request lines carry the request id, a route at warn writes no info line', async () => {
    const { logger, lines } = capture('info');
    const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLoggerFactory as never });
    app.get('/a', async (req) => { req.log.info('in a'); return { ok: true }; });
    app.get('/b', { logLevel: 'warn' }, async (req) => { req.log.info('in b'); req.log.warn('warned in b'); return { ok: true }; });
    await app.ready();
    const ra = await app.inject({ url: '/a', headers: { 'x-request-id': 'q' } });
    const rb = await app.inject({ url: '/b' });
    expect([ra.statusCode, rb.statusCode]).toEqual([200, 200]);
    await new Promise((r) => setImmediate(r));
    const msgs = lines.map((x) => x.msg);
    expect(msgs).toContain('in a');
    expect(msgs).toContain('warned in b');
    expect(msgs).not.toContain('in b');
    expect(lines.find((x) => x.msg === 'in a')!.reqId).toBeTruthy();
    await app.close();
  });
});

/**
 * Hostile bodies at the size limits: they get a 4xx quickly and the process
 * keeps answering.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { extraModules, invocation } from './helpers.ts';

let be: TestBackend;
let hook: string;
beforeAll(async () => {
  be = await startTestBackend({ modules: extraModules() });
  hook = await be.org.hookToken();
}, 60_000);
afterAll(async () => be?.close());

const send = (url: string, payload: string | Buffer, ct = 'application/json') =>
  be.kernel.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${hook}`, 'content-type': ct }, payload });

describe('hostile bodies', () => {
  it('survives a 30 MB body of nested brackets, random bytes and an over-limit batch', async () => {
    const started = Date.now();
    const deep = `{"events":[${'['.repeat(15_000_000)}${']'.repeat(15_000_000)}]}`;
    const r1 = await send('/api/v1/events/batch', deep);
    expect(r1.statusCode).toBe(400);
    expect(r1.json().error.code).toBe('too_deep');
    const noise = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const r2 = await send('/api/v1/events/batch', noise);
    expect(r2.statusCode).toBe(400);
    const r3 = await send('/v1/traces', noise, 'application/x-protobuf');
    expect(r3.statusCode).toBe(400);
    const r4 = await send('/v1/logs', noise, 'application/json');
    expect(r4.statusCode).toBe(400);
    // a body over the single-event limit is cut off while streaming
    const r5 = await send('/api/v1/events', JSON.stringify(invocation({ input_payload: 'x'.repeat(3 * 1024 * 1024) })));
    expect(r5.statusCode).toBe(413);
    expect(Date.now() - started).toBeLessThan(20_000);
    const ok = await send('/api/v1/events', JSON.stringify(invocation()));
    expect(ok.statusCode).toBe(202);
  }, 60_000);
});

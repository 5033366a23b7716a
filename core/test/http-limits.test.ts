/**
 * Requests Node turns away before fastify sees them (headers over the limit, broken HTTP)
 * get the platform's error body, and the server keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

let b: TestBackend;
beforeAll(async () => {
  b = await startTestBackend({ listen: true });
});
afterAll(() => b.close());

/** Sends raw bytes and returns what came back before the server closed the connection. */
function raw(text: string): Promise<string> {
  const { hostname, port } = new URL(b.url!);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('requests refused before routing', () => {
  it('answers headers over the limit with 431 and the error body', async () => {
    const res = await raw(`GET /api/v1/agents/series?agent=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({ error: { code: 'headers_too_large', message: expect.stringContaining('16 KB'), details: null } });
  });

  it('answers a malformed request with 400 and the error body, and keeps serving', async () => {
    const res = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)).error.code).toBe('bad_request');
    expect((await fetch(`${b.url}/health`)).status).toBe(200);
  });
});

import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

const connect = (url: string, token: string) =>
  new Promise<Socket>((resolve, reject) => {
    const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });

const nextBus = (s: Socket, topic: string, ms = 5000) =>
  new Promise<any>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${topic} within ${ms} ms`)), ms);
    s.on('bus', (m) => {
      if (m.topic === topic) {
        clearTimeout(t);
        resolve(m);
      }
    });
  });

describe('realtime gateway', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ listen: true });
  });
  afterAll(() => b.close());

  it('refuses a socket without a valid token', async () => {
    await expect(connect(b.url!, 'not-a-token')).rejects.toThrow(/unauthorized/);
  });

  it("delivers a user's messages to that user only, never to another org", async () => {
    const other = await b.createOrg('rt-other');
    const mine = await connect(b.url!, b.client.token);
    const theirs = await connect(b.url!, other.client.token);
    const seenByOther: any[] = [];
    theirs.on('bus', (m) => seenByOther.push(m));
    const got = nextBus(mine, 'notifications.new');
    const r = await b.client.post('/api/v1/notifications/test', { channels: ['in_app'] });
    expect(r.status).toBe(200);
    const msg = await got;
    expect(msg.orgId).toBe(b.org.id);
    expect(msg.payload.subject).toBe('Orrery test notification');
    await new Promise((r) => setTimeout(r, 200));
    expect(seenByOther).toEqual([]);
    mine.close();
    theirs.close();
  });
});

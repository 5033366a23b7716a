/**
 * The socket.io gateway: a bus message reaches the sockets of its scope's room and no other, and
 * a message for a room with no socket on this node is dropped before socket.io builds its packet.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import { inProcessBus } from '../../bus/bus.ts';
import { startGateway, type GatewayDeps } from '../gateway.ts';

const org = { id: 'org-1', slug: 'one', schema: 'org_one' };
const deps = (bus: ReturnType<typeof inProcessBus>) => ({
  bus,
  tokens: { verifyAccess: async (t: string) => (t.startsWith('tok-') ? { org: org.id, sub: t.slice(4) } : null) },
  callers: {
    org: async (id: string) => (id === org.id ? org : null),
    caller: async (_o: unknown, userId: string) => ({ userId, role: userId === 'admin' ? 'Admin' : 'Developer', departments: userId === 'u1' ? [{ id: 'd1' }] : [] }),
  },
}) as unknown as GatewayDeps;

let server: Server | null = null;
let gw: Awaited<ReturnType<typeof startGateway>> | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await gw?.close();
  await new Promise((r) => (server ? server.close(r) : r(null)));
  gw = null;
  server = null;
});

describe('realtime gateway', () => {
  it('emits each bus message to its scope room only, and skips rooms nobody on this node is in', async () => {
    const bus = inProcessBus();
    server = createServer();
    gw = await startGateway(server, deps(bus));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const received: Record<string, string[]> = { u1: [], u2: [] };
    for (const user of ['u1', 'u2'] as const) {
      const s = connect(url, { path: '/socket.io', auth: { token: `tok-${user}` }, transports: ['websocket'] });
      sockets.push(s);
      s.on('bus', (m: { topic: string; payload: { n: number } }) => received[user]!.push(`${m.topic}:${m.payload.n}`));
      await new Promise<void>((ok, fail) => (s.once('connect', () => ok()), s.once('connect_error', fail)));
    }
    // count the packets socket.io builds: one per emit that reaches its adapter
    const adapter = gw.io.of('/').adapter;
    const broadcast = adapter.broadcast.bind(adapter);
    let built = 0;
    adapter.broadcast = (...a: Parameters<typeof broadcast>) => (built++, broadcast(...a));

    const sent: Array<[Parameters<typeof bus.publish>[1], number]> = [
      [{ kind: 'org' }, 1], [{ kind: 'user', id: 'u1' }, 2], [{ kind: 'user', id: 'u2' }, 3], [{ kind: 'department', id: 'd1' }, 4],
      // nobody's rooms: a user and a department with no socket here
      [{ kind: 'user', id: 'u9' }, 5], [{ kind: 'department', id: 'd9' }, 6],
    ];
    for (const [scope, n] of sent) await bus.publish(org.id, scope, 'events.committed', { n });
    await bus.publish(org.id, { kind: 'org' }, 'kernel.cache.clear', { n: 7 });
    await bus.publish(org.id, { kind: 'org' }, 'events.committed', { n: 8 });
    await new Promise((r) => setTimeout(r, 300));

    // reference: who may see what, from the scopes alone
    const sees = (user: string, scope: { kind: string; id?: string }) => scope.kind === 'org' || (scope.kind === 'user' && scope.id === user) || (scope.kind === 'department' && user === 'u1' && scope.id === 'd1');
    for (const user of ['u1', 'u2']) {
      const want = [...sent, [{ kind: 'org' }, 8] as const].filter(([scope]) => sees(user, scope)).map(([, n]) => `events.committed:${n}`);
      expect(received[user]!.sort()).toEqual(want.sort());
    }
    // packets built only for rooms someone is in: org ×2, u1, u2, d1 (not u9, d9, nor the kernel message)
    expect(built).toBe(5);
  });

  it('lets an Admin watch a department they are not in while it is on screen, and nobody else', async () => {
    const bus = inProcessBus();
    server = createServer();
    gw = await startGateway(server, deps(bus));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const received: Record<string, number[]> = { admin: [], u1: [], u2: [] };
    const socketOf: Record<string, Socket> = {};
    for (const user of ['admin', 'u1', 'u2'] as const) {
      const s = connect(url, { path: '/socket.io', auth: { token: `tok-${user}` }, transports: ['websocket'] });
      sockets.push(s);
      socketOf[user] = s;
      s.on('bus', (m: { payload: { n: number } }) => received[user]!.push(m.payload.n));
      await new Promise<void>((ok, fail) => (s.once('connect', () => ok()), s.once('connect_error', fail)));
    }
    const watch = (user: string, ids: unknown) => socketOf[user]!.emitWithAck('watch', { department_ids: ids }) as Promise<{ watching: string[] }>;
    const publish = async (n: number) => {
      await bus.publish(org.id, { kind: 'department', id: 'd1' }, 'events.committed', { n });
      await bus.publish(org.id, { kind: 'department', id: 'd2' }, 'events.committed', { n: n + 100 });
      await new Promise((r) => setTimeout(r, 200));
    };

    await publish(1); // nobody watches: only d1's member hears d1
    expect(await watch('admin', ['d1', 'd2', 42, ''])).toEqual({ watching: ['d1', 'd2'] });
    expect(await watch('u2', ['d1'])).toEqual({ watching: [] }); // a Developer sees only their own departments
    expect(await watch('u1', ['d1'])).toEqual({ watching: [] }); // already in d1 by membership
    await publish(2);
    expect(await watch('admin', ['d2'])).toEqual({ watching: ['d2'] });
    await publish(3);
    expect(await watch('admin', [])).toEqual({ watching: [] });
    await publish(4);
    expect(await watch('admin', 'not a list')).toEqual({ watching: [] });

    // reference: a member of d1 hears every d1 message; the Admin hears a department only while watching it
    expect(received.u1).toEqual([1, 2, 3, 4]);
    expect(received.u2).toEqual([]);
    expect(received.admin!.sort((a, b) => a - b)).toEqual([2, 102, 103]);
  });
});

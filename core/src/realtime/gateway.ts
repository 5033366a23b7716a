import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { BusScope } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type GatewayDeps = Pick<Internals, 'bus' | 'callers' | 'tokens'>;

/** departments one socket may watch besides its own: a page shows one or two */
const MAX_WATCHED = 20;

export const roomFor = (orgId: string, scope: BusScope) =>
  scope.kind === 'org' ? `org:${orgId}` : scope.kind === 'department' ? `org:${orgId}:dept:${scope.id}` : `org:${orgId}:user:${scope.id}`;

/**
 * socket.io gateway. A socket authenticates with an access token on connect and
 * is joined only to rooms it may see: its org, its departments, itself. Every
 * bus message is emitted to the room of its scope. With Redis, every node
 * receives every bus message (Redis pub/sub) and emits it to its own sockets
 * only (`io.local`), so no message is sent twice; the socket.io Redis adapter
 * is installed as well so that room operations and direct emits span nodes.
 */
export async function startGateway(httpServer: HttpServer, s: GatewayDeps, redis?: { url: string; prefix: string }) {
  const io = new Server(httpServer, { path: '/socket.io', serveClient: false, cors: { origin: false } });
  let closeAdapter = async () => {};
  if (redis) {
    const { Redis } = await import('ioredis');
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const pub = new Redis(redis.url);
    const sub = pub.duplicate();
    io.adapter(createAdapter(pub, sub, { key: `${redis.prefix}socket.io` }));
    closeAdapter = async () => {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    };
  }

  io.use(async (socket, next) => {
    try {
      const token = socket.handshake.auth?.token as string | undefined;
      const claims = token ? await s.tokens.verifyAccess(token) : null;
      if (!claims) return next(new Error('unauthorized'));
      const org = await s.callers.org(claims.org);
      const caller = org && (await s.callers.caller(org, claims.sub, 'access_token'));
      if (!org || !caller) return next(new Error('unauthorized'));
      socket.data = { org, caller };
      await socket.join([
        roomFor(org.id, { kind: 'org' }),
        roomFor(org.id, { kind: 'user', id: caller.userId }),
        ...caller.departments.map((d) => roomFor(org.id, { kind: 'department', id: d.id })),
      ]);
      next();
    } catch (err) {
      next(err as Error);
    }
  });

  // An Admin may look at any department's dashboard, not only those they belong to: the portal
  // names the departments on screen (`watch`), and the socket joins those rooms for as long as
  // they are shown. Others already sit in every department room they may see.
  io.on('connection', (socket) => {
    const { org, caller } = socket.data as { org: { id: string }; caller: { role: string; departments: Array<{ id: string }> } };
    const own = new Set(caller.departments.map((d) => d.id));
    let watched = new Set<string>();
    socket.on('watch', (msg: unknown, ack?: unknown) => {
      const ids = msg && typeof msg === 'object' && Array.isArray((msg as { department_ids?: unknown }).department_ids)
        ? ((msg as { department_ids: unknown[] }).department_ids.filter((id) => typeof id === 'string' && id.length > 0 && id.length <= 128) as string[]).slice(0, MAX_WATCHED)
        : [];
      const next = new Set(caller.role === 'Admin' ? ids.filter((id) => !own.has(id)) : []);
      const room = (id: string) => roomFor(org.id, { kind: 'department', id });
      for (const id of watched) if (!next.has(id)) void socket.leave(room(id));
      for (const id of next) if (!watched.has(id)) void socket.join(room(id));
      watched = next;
      if (typeof ack === 'function') ack({ watching: [...next] });
    });
  });

  // Every node receives every bus message (Redis pub/sub); each emits only to its own sockets.
  // socket.io encodes a packet before it looks at the room, so a message for a room without a
  // socket here is dropped first: ingestion publishes one summary per active user and department
  // every 150 ms (hundreds a second), and most of those rooms have nobody in them.
  const localRooms = io.of('/').adapter.rooms;
  const unsubscribe = s.bus.subscribe('*', (msg) => {
    if (msg.topic.startsWith('kernel.')) return;
    const room = roomFor(msg.orgId, msg.scope);
    if (!localRooms.has(room)) return;
    const { node: _publisher, ...forBrowsers } = msg; // which node published is the platform's business
    io.local.to(room).emit('bus', forBrowsers);
  });

  return {
    io,
    async close() {
      unsubscribe();
      io.disconnectSockets(true);
      await new Promise<void>((r) => io.close(() => r()));
      await closeAdapter();
    },
  };
}

import type { BusMessage, BusScope } from '@orrery/plugin-sdk';
import type { Bus } from '../types.ts';

type Envelope = BusMessage & { scope: BusScope; node: string };
type Handler = (msg: Envelope) => void;

/** Topic matching: exact, or a prefix pattern ending in '*'. */
const matches = (pattern: string, topic: string) =>
  pattern === '*' || pattern === topic || (pattern.endsWith('*') && topic.startsWith(pattern.slice(0, -1)));

/** Local fan-out shared by both modes: each node delivers to its own subscribers. */
class LocalFanout {
  private handlers = new Set<{ pattern: string; fn: Handler }>();
  subscribe(pattern: string, fn: Handler) {
    const h = { pattern, fn };
    this.handlers.add(h);
    return () => void this.handlers.delete(h);
  }
  deliver(msg: Envelope) {
    for (const h of this.handlers) {
      if (!matches(h.pattern, msg.topic)) continue;
      try {
        h.fn(msg);
      } catch {
        // one failing subscriber must not stop delivery to the others
      }
    }
  }
}

const envelope = <T>(node: string, orgId: string, scope: BusScope, topic: string, payload: T): Envelope => ({
  node,
  orgId,
  scope,
  topic,
  payload,
  at: new Date().toISOString(),
});

/** A random id per bus instance: which node published a message. */
const nodeId = () => Math.random().toString(36).slice(2, 10);

export function inProcessBus(): Bus {
  const local = new LocalFanout();
  const node = nodeId();
  return {
    mode: 'in-process',
    node,
    async publish(orgId, scope, topic, payload) {
      const msg = envelope(node, orgId, scope, topic, payload);
      // deliver on the next tick, like a network bus would: publishers never run subscribers inline
      queueMicrotask(() => local.deliver(msg));
    },
    subscribe: (pattern, fn) => local.subscribe(pattern, fn as Handler),
    async close() {},
  };
}

/**
 * Redis pub/sub: one channel per install (prefix), every node subscribes and
 * fans out locally. Socket.io has its own Redis adapter for browser rooms.
 */
export async function redisBus(url: string, prefix: string): Promise<Bus> {
  // loaded only when Redis is configured: the embedded start does not pay for it
  const { Redis } = await import('ioredis');
  const pub = new Redis(url, { maxRetriesPerRequest: 3 });
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  const channel = `${prefix}bus`;
  const local = new LocalFanout();
  const node = nodeId();
  await sub.subscribe(channel);
  sub.on('message', (ch: string, raw: string) => {
    if (ch !== channel) return;
    try {
      local.deliver(JSON.parse(raw) as Envelope);
    } catch {
      // a malformed message from another install sharing the channel is ignored
    }
  });
  return {
    mode: 'redis',
    node,
    async publish(orgId, scope, topic, payload) {
      await pub.publish(channel, JSON.stringify(envelope(node, orgId, scope, topic, payload)));
    },
    subscribe: (pattern, fn) => local.subscribe(pattern, fn as Handler),
    async close() {
      await sub.quit().catch(() => sub.disconnect());
      await pub.quit().catch(() => pub.disconnect());
    },
  };
}

/**
 * `env.onBus`: plugins subscribe to kernel and plugin bus topics and are called with a
 * context bound to the message's org, once per cluster event — in process, and with two
 * nodes on one Redis (where every node receives every message).
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { definePlugin, type BusMessage } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { checkDeclaration } from '../../src/plugins/loader.ts';

interface Heard {
  node: string;
  topic: string;
  msgOrg: string;
  ctxOrg: string;
  payload: any;
}

/** A publisher (its route publishes on `probe.ping`) and a listener (records what it hears, and on which node). */
function plugins(node: string, heard: Heard[]) {
  const probe = definePlugin({
    id: 'probe',
    version: '1.0.0',
    sdk: '^2.0.0',
    title: 'Probe',
    description: 'publishes a ping',
    routePrefix: 'probe',
    permissions: {},
    topics: ['ping'],
    register(env) {
      env.route({
        method: 'POST',
        path: '/ping',
        permission: 'authenticated',
        summary: 'publish a ping on the bus',
        schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } },
        async handler(req, ctx) {
          await ctx.bus.publish('ping', { n: (req.body as { n: number }).n });
          return { ok: true };
        },
      });
    },
  });
  const listener = definePlugin({
    id: 'listener',
    version: '1.0.0',
    sdk: '^2.0.0',
    title: 'Listener',
    description: 'hears bus topics',
    routePrefix: 'listener',
    permissions: {},
    register(env) {
      env.onBus({
        topics: ['probe.ping', 'kernel.members.*', 'kernel.plugins.changed'],
        async handle(msg: BusMessage<any>, ctx) {
          // the context is the org's: its database answers in the org's schema
          await ctx.db.raw('select 1');
          heard.push({ node, topic: msg.topic, msgOrg: msg.orgId, ctxOrg: ctx.org.id, payload: msg.payload });
        },
      });
    },
  });
  // a handler that always throws: it must not keep the listener from hearing anything
  const failing = definePlugin({
    id: 'failing-listener',
    version: '1.0.0',
    sdk: '^2.0.0',
    title: 'Failing listener',
    description: 'throws on every message',
    routePrefix: 'failing-listener',
    permissions: {},
    register(env) {
      env.onBus({
        topics: ['probe.*'],
        handle() {
          throw new Error('this handler always fails');
        },
      });
    },
  });
  return [probe, failing, listener];
}

describe('onBus declarations', () => {
  const decl = (topics: unknown) =>
    definePlugin({ id: 'bad-bus', version: '1.0.0', sdk: '^2.0.0', title: 'b', description: 'b', routePrefix: 'bad-bus', permissions: {}, register: (env) => env.onBus({ topics: topics as string[], handle() {} }) });
  const taken = () => ({ ids: new Set<string>(), prefixes: new Map<string, string>() });
  it('refuses a plugin whose subscription has no topics or a star inside a topic', () => {
    expect(() => checkDeclaration(decl([]), 'test', taken())).toThrow(/onBus\[0\]: topics must be/);
    expect(() => checkDeclaration(decl(['a.*.b']), 'test', taken())).toThrow(/onBus\[0\]: topics must be/);
    expect(checkDeclaration(decl(['ingestion.*', 'kernel.plugins.changed']), 'test', taken()).busHandlers).toHaveLength(1);
  });
});

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
};
const settle = (ms = 700) => new Promise((r) => setTimeout(r, ms));

describe('bus subscriptions (in process)', () => {
  const heard: Heard[] = [];
  let be: TestBackend;
  beforeAll(async () => {
    be = await startTestBackend({ plugins: plugins('a', heard), realServers: false });
  }, 60_000);
  afterAll(async () => be?.close());

  it('calls the handler once per message, with the context of the message org', async () => {
    const other = await be.createOrg('second-org');
    expect((await be.client.post('/api/v1/probe/ping', { n: 1 })).status).toBe(200);
    expect((await other.client.post('/api/v1/probe/ping', { n: 2 })).status).toBe(200);
    await until(() => heard.filter((h) => h.topic === 'probe.ping').length >= 2);
    await settle();
    const pings = heard.filter((h) => h.topic === 'probe.ping');
    expect(pings.map((p) => [p.payload.n, p.ctxOrg]).sort()).toEqual([
      [1, be.org.id],
      [2, other.id],
    ]);
    for (const p of pings) expect(p.ctxOrg).toBe(p.msgOrg);
    // the failing handler was called and logged, and did not stop the others
    expect(be.logs.some((l) => l.includes('bus handler failed') && l.includes('this handler always fails'))).toBe(true);
  });

  it('hears the kernel: members added and removed, a plugin switched', async () => {
    heard.length = 0;
    const created = await be.client.post('/api/v1/users', { email: `dev-${Date.now()}@example.com`, role: 'Developer' });
    expect(created.status).toBe(201);
    const u = { userId: created.body.user_id as string };
    await until(() => heard.some((h) => h.topic === 'kernel.members.added'));
    expect(heard.find((h) => h.topic === 'kernel.members.added')).toMatchObject({ ctxOrg: be.org.id, payload: { user_id: u.userId, role: 'Developer' } });
    expect((await be.client.delete(`/api/v1/members/${u.userId}`)).status).toBe(204);
    await until(() => heard.some((h) => h.topic === 'kernel.members.removed'));
    expect(heard.find((h) => h.topic === 'kernel.members.removed')).toMatchObject({ ctxOrg: be.org.id, payload: { user_id: u.userId } });
    expect((await be.client.put('/api/v1/admin/plugins/probe', { enabled: false })).status).toBe(200);
    await until(() => heard.some((h) => h.topic === 'kernel.plugins.changed'));
    expect(heard.find((h) => h.topic === 'kernel.plugins.changed')).toMatchObject({ ctxOrg: be.org.id, payload: { pluginId: 'probe', enabled: false } });
    expect((await be.client.put('/api/v1/admin/plugins/probe', { enabled: true })).status).toBe(200);
  });

  it('is not called for an org where the subscribing plugin is off', async () => {
    const third = await be.createOrg('third-org');
    expect((await third.client.put('/api/v1/admin/plugins/listener', { enabled: false })).status).toBe(200);
    heard.length = 0;
    await third.client.post('/api/v1/probe/ping', { n: 3 });
    await be.client.post('/api/v1/probe/ping', { n: 4 });
    await until(() => heard.some((h) => h.payload?.n === 4));
    await settle();
    expect(heard.filter((h) => h.topic === 'probe.ping').map((h) => h.payload.n)).toEqual([4]);
  });
});

const PG = process.env.ORRERY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.ORRERY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('bus subscriptions on two nodes sharing Redis', () => {
  const heard: Heard[] = [];
  let a: TestBackend;
  let b: TestBackend;
  const saved = { ...process.env };
  beforeAll(async () => {
    process.env.ORRERY_TEST_DATABASE_URL = PG;
    process.env.ORRERY_TEST_REDIS_URL = REDIS;
    a = await startTestBackend({ plugins: plugins('a', heard), realServers: true });
    b = await startTestBackend({ plugins: plugins('b', heard), realServers: true, config: { storage: a.config.storage } });
  }, 90_000);
  afterAll(async () => {
    await b?.close({ keepData: true });
    await a?.close();
    for (const k of ['ORRERY_TEST_DATABASE_URL', 'ORRERY_TEST_REDIS_URL']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('each message is handled once in the cluster, by the node that published it', async () => {
    expect(a.kernel.container.cradle.bus.mode).toBe('redis');
    for (let n = 0; n < 10; n++) {
      const node = n % 2 ? b : a;
      expect((await node.client.post('/api/v1/probe/ping', { n })).status).toBe(200);
    }
    await until(() => heard.filter((h) => h.topic === 'probe.ping').length >= 10);
    await settle(1500);
    const pings = heard.filter((h) => h.topic === 'probe.ping');
    expect(pings.map((p) => p.payload.n).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const p of pings) expect(p.node).toBe(p.payload.n % 2 ? 'b' : 'a');
  });
});

import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { asValue, type AwilixContainer } from 'awilix';
import type { FastifyInstance } from 'fastify';
import AjvModule from 'ajv';
import { HttpError, isRawReply, type Caller, type Org, type StoredEvent, type PgMigration, type ChMigration, type Role, type BusMessage, type BusSubscriptionDecl } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { MigrationSet } from '../storage/migrations.ts';
import { checkDeclaration, discoverPluginFolders, importPlugin, type LoadedPlugin, type RefusedPlugin } from './loader.ts';
import { tenantContext, type PluginScope } from './context.ts';
import { describeConfigError } from '@orrery/config';
import { errorSchema } from '../http/schemas.ts';
import { AnswerCache } from './answerCache.ts';
import { widgetAssets } from './remoteAssets.ts';
import { resolveDependencies } from './dependencies.ts';
import { unavailableProvider } from './serviceAccess.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;

interface ActivePlugin extends LoadedPlugin {
  scope: AwilixContainer<Internals & PluginScope>;
  status: 'active' | 'failed';
  error?: string;
}

/**
 * Loads, mounts and runs plugins. Per-tenant enablement is read from the
 * catalogue and cached briefly; a change on any node is announced on the bus
 * so every node drops its cache at once, and a disabled plugin answers 404 for
 * that tenant only.
 */
/** What a caller may see: the same request from callers with the same scope has the same answer. */
const callerScope = (c: Caller) => `${c.userId}|${c.role}|${c.departments.map((d) => `${d.id}:${d.manager ? 'm' : ''}`).join(',')}`;

export class PluginHost {
  readonly active: ActivePlugin[] = [];
  readonly refused: RefusedPlugin[] = [];
  private enabled = new Map<string, { at: number; map: Map<string, boolean> }>();
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();
  private stopping = false;
  private readonly unsubscribers: Array<() => void> = [];
  private readonly node = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;

  /** remembered answers of the routes that opt in (see answerCache.ts) */
  readonly answers = new AnswerCache();

  constructor(private container: AwilixContainer<Internals>) {}

  /**
   * The org's events changed (committed, deleted), or with `pluginId` what that plugin's
   * answers read did: remembered answers are stale, the watched ones are refreshed.
   */
  dataChanged(orgId: string, pluginId?: string) {
    this.answers.changed(orgId, pluginId);
  }

  /** The org's plugins or callers changed: remembered answers are dropped, not refreshed. */
  answersInvalid(orgId: string) {
    this.answers.forget(orgId);
  }

  private get s() {
    return this.container.cradle;
  }

  /** Loads plugin folders and in-memory declarations (the test harness passes those). */
  async load(opts: { roots: string[]; declarations?: unknown[]; only?: string[] }) {
    const taken = { ids: new Set<string>(), prefixes: new Map<string, string>() };
    const candidates: Array<{ source: string; get: () => Promise<unknown>; folder: boolean }> = [];
    const accepted: ActivePlugin[] = [];
    for (const dir of discoverPluginFolders(opts.roots)) candidates.push({ source: dir, get: () => importPlugin(dir), folder: true });
    for (const [i, d] of (opts.declarations ?? []).entries()) candidates.push({ source: `declaration #${i + 1}`, get: async () => d, folder: false });
    for (const c of candidates) {
      let raw: unknown;
      try {
        raw = await c.get();
      } catch (err) {
        this.refuse({ id: c.source.split('/').pop()!, source: c.source, error: `could not be imported: ${(err as Error).message}` });
        continue;
      }
      const id = (raw as { id?: string })?.id;
      // `only` picks among the folders; declarations handed over in code always load
      if (opts.only && c.folder && id && !opts.only.includes(id)) continue;
      // the same plugin from its folder and as a declaration (a plugin's test loading the folders too)
      if (!c.folder && id && accepted.some((a) => a.decl.id === id && a.decl.root && a.decl.root === (raw as { root?: string }).root)) continue;
      try {
        const loaded = checkDeclaration(raw, c.source, taken);
        const pluginConfig = this.configFor(loaded);
        const scope = this.container.createScope<PluginScope>();
        scope.register({
          pluginId: asValue(loaded.decl.id),
          pluginLogger: asValue(this.s.logger.child({ plugin: loaded.decl.id })),
          pluginConfig: asValue(pluginConfig),
        });
        accepted.push({ ...loaded, scope: scope as AwilixContainer<Internals & PluginScope>, status: 'active' });
      } catch (err) {
        this.refuse({ id: id ?? c.source, source: c.source, error: (err as Error).message });
      }
    }
    // providers before the plugins that need them; a missing provider or a cycle refuses the plugin
    const { ordered, refused } = resolveDependencies(accepted);
    for (const r of refused) this.refuse({ id: r.plugin.decl.id, source: r.plugin.source, error: `plugin ${r.plugin.decl.id} (${r.plugin.source}) refused: ${r.error}` });
    for (const p of ordered) {
      for (const [name, roles] of Object.entries(p.decl.permissions)) this.s.permissions.define(name, roles as Role[], p.decl.id);
      this.active.push(p);
    }
  }

  /** 424 for an org where a provider the plugin needs is off (or failed), else null. */
  unavailableProvider(p: ActivePlugin, orgId: string) {
    return unavailableProvider(this, p, orgId);
  }

  private refuse(r: RefusedPlugin) {
    this.refused.push(r);
    this.s.logger.error({ plugin: r.id, source: r.source }, r.error);
  }

  /** Validates the plugin's slice of app-config.yaml against its schema, filling defaults. */
  private configFor(p: LoadedPlugin): Record<string, unknown> {
    const slice = structuredClone(this.s.config.plugins?.[p.decl.id] ?? {});
    if (!p.decl.configSchema) return slice;
    const validate = new Ajv({ useDefaults: true }).compile(p.decl.configSchema);
    if (!validate(slice)) throw new Error(describeConfigError(validate.errors![0], `plugins/${p.decl.id}`));
    return slice;
  }

  /** Runs each plugin's init; a failure refuses the plugin if it is allowed to fail, else stops the start. */
  async init() {
    const fatal: string[] = [];
    for (const p of this.active) {
      if (!p.decl.init) continue;
      try {
        await p.decl.init({ logger: p.scope.cradle.pluginLogger, config: p.scope.cradle.pluginConfig });
      } catch (err) {
        p.status = 'failed';
        p.error = (err as Error).message;
        this.s.logger.error({ plugin: p.decl.id, err }, 'plugin init failed');
        if (!p.decl.allowedToFail) fatal.push(`${p.decl.id}: ${p.error}`);
      }
    }
    if (fatal.length) throw new Error(`plugins failed to start: ${fatal.join('; ')}`);
  }

  pgMigrationSets(): MigrationSet<PgMigration>[] {
    return this.active.filter((p) => p.decl.migrations?.pg?.length).map((p) => ({ owner: `plugin:${p.decl.id}`, migrations: p.decl.migrations!.pg! }));
  }
  chMigrationSets(): MigrationSet<ChMigration>[] {
    return this.active
      .filter((p) => p.decl.migrations?.clickhouse?.length)
      .map((p) => ({ owner: `plugin:${p.decl.id}`, migrations: p.decl.migrations!.clickhouse! }));
  }

  // ---- enablement ------------------------------------------------------------------

  private async enabledMap(orgId: string): Promise<Map<string, boolean>> {
    const hit = this.enabled.get(orgId);
    if (hit && Date.now() - hit.at < 10_000) return hit.map;
    const rows = await this.s.knex.withSchema('public').table('plugin_settings').where({ org_id: orgId }).select('plugin_id', 'enabled');
    const map = new Map<string, boolean>(rows.map((r: any) => [r.plugin_id, !!r.enabled]));
    this.enabled.set(orgId, { at: Date.now(), map });
    return map;
  }

  async isEnabled(orgId: string, pluginId: string): Promise<boolean> {
    const p = this.active.find((a) => a.decl.id === pluginId);
    if (!p || p.status !== 'active') return false;
    const v = (await this.enabledMap(orgId)).get(pluginId);
    return v ?? p.decl.enabledByDefault !== false;
  }

  /** Best effort, from the cache (used where an await is not worth it). */
  isEnabledSync(orgId: string, pluginId: string): boolean {
    const p = this.active.find((a) => a.decl.id === pluginId);
    return this.enabled.get(orgId)?.map.get(pluginId) ?? p?.decl.enabledByDefault !== false;
  }

  async setEnabled(org: Org, pluginId: string, enabled: boolean) {
    if (!this.active.some((a) => a.decl.id === pluginId)) throw new HttpError(404, 'not_found', `no plugin "${pluginId}"`);
    await this.s.knex
      .withSchema('public')
      .table('plugin_settings')
      .insert({ org_id: org.id, plugin_id: pluginId, enabled })
      .onConflict(['org_id', 'plugin_id'])
      .merge({ enabled, updated_at: new Date() });
    this.forgetEnablement(org.id);
    await this.s.bus.publish(org.id, { kind: 'org' }, 'kernel.plugins.changed', { pluginId, enabled });
  }

  forgetEnablement(orgId?: string) {
    if (orgId) this.enabled.delete(orgId);
    else this.enabled.clear();
  }

  // ---- HTTP ----------------------------------------------------------------------------

  /** Mounts every active plugin's routes under /api/v1/<prefix>, each in its own fastify context. */
  async mount(app: FastifyInstance) {
    for (const p of this.active) {
      for (const own of [p.decl.routePrefix, ...(p.decl.extraRoutePrefixes ?? [])]) {
        const prefix = `/api/v1/${own}`;
        const routes = p.routes.filter((r) => (r.prefix ?? p.decl.routePrefix) === own);
        await app.register(
          async (child) => {
            // disabled for this tenant → 404, exactly as if the plugin were not installed
            child.addHook('preHandler', async (req) => {
              if (req.auth && (p.status !== 'active' || !(await this.isEnabled(req.auth.org.id, p.decl.id)))) {
                throw new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
              }
              const missing = req.auth && (await this.unavailableProvider(p, req.auth.org.id));
              if (missing) throw missing;
            });
            for (const r of routes) {
              child.route({
                method: r.method,
                url: r.path === '/' ? '' : r.path.replace(/\{(\w+)\}/g, ':$1'),
                config: { permission: r.permission },
                schema: {
                  tags: [p.decl.id],
                  summary: r.summary,
                  description: `${r.description ?? ''}\n\nPermission: \`${r.permission}\` (${this.s.permissions.list().find((x) => x.name === r.permission)?.roles.join(', ') ?? r.permission}).`.trim(),
                  ...r.schema,
                  response: { ...(r.schema?.response ?? {}), '4xx': errorSchema },
                } as any,
                handler: async (req, reply) => {
                  const ctx = tenantContext(p.scope, req.auth!.org, req.auth!.caller);
                  const run = () => r.handler({ query: req.query, params: req.params, body: req.body, headers: req.headers, id: req.id }, ctx);
                  let result: unknown;
                  if (r.cache && r.method === 'GET' && req.auth!.caller) {
                    // `Cache-Control: no-cache` asks for an answer computed now (a widget's refresh button)
                    const fresh = /\bno-cache\b/i.test(String(req.headers['cache-control'] ?? ''));
                    const answer = await this.answers.get(req.auth!.org.id, p.decl.id, `${callerScope(req.auth!.caller)}\u0000${req.url}`, r.cache.maxAgeSeconds * 1000, run, { fresh });
                    void reply.header('x-orrery-answer', answer.source);
                    result = answer.value;
                  } else {
                    result = await run();
                    // a write through the plugin's own routes: what its remembered answers read may have changed
                    if (r.method !== 'GET') ctx.answersChanged();
                  }
                  if (result === undefined) return reply.status(204).send();
                  if (isRawReply(result)) {
                    reply.status(result.status).headers(result.headers);
                    const body = result.body;
                    // a stream is pulled as the socket drains: memory stays flat however long the answer
                    return reply.send(typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body));
                  }
                  return result;
                },
              });
            }
          },
          { prefix },
        );
      }
    }
    await this.serveFrontends(app);
  }

  /** Serves each plugin's built federated remote at /plugins/<id>/. */
  private async serveFrontends(app: FastifyInstance) {
    const fastifyStatic = (await import('@fastify/static')).default;
    let first = true;
    for (const p of this.active) {
      const dist = this.distDir(p);
      if (!dist) continue;
      await app.register(fastifyStatic, {
        root: dist,
        prefix: `/plugins/${p.decl.id}/`,
        decorateReply: first,
        wildcard: true,
        index: false,
        preCompressed: true,
        setHeaders: (res: any, path: string) => {
          const header = (k: string, v: string) => (typeof res.header === 'function' ? res.header(k, v) : res.setHeader(k, v));
          if (/(remoteEntry\.js|mf-manifest\.json|widget-assets\.json)(\.br|\.gz)?$/.test(path)) header('cache-control', 'no-cache');
          else header('cache-control', 'public, max-age=31536000, immutable');
        },
      });
      first = false;
    }
    return first;
  }

  private distDir(p: LoadedPlugin): string | null {
    if (!p.decl.frontend || !p.decl.root) return null;
    const dir = resolve(p.decl.root, p.decl.frontend.distDir);
    return existsSync(join(dir, 'remoteEntry.js')) ? dir : null;
  }

  /** The plugin manifest the host UI reads: enabled plugins, their remote and the widgets the role may see. */
  async manifest(org: Org, caller: Caller, all = false) {
    const out = [];
    for (const p of this.active) {
      const enabled = p.status === 'active' && (await this.isEnabled(org.id, p.decl.id));
      if (!enabled && !all) continue;
      const dist = this.distDir(p);
      out.push({
        id: p.decl.id,
        version: p.decl.version,
        title: p.decl.title,
        description: p.decl.description,
        enabled,
        status: p.status,
        routePrefix: p.decl.routePrefix,
        topics: (p.decl.topics ?? []).map((t) => `${p.decl.id}.${t}`),
        remote: p.decl.frontend && dist
          ? { name: p.decl.frontend.remoteName, entry: `/plugins/${p.decl.id}/remoteEntry.js`, widgetAssets: widgetAssets(dist, `/plugins/${p.decl.id}/`) }
          : null,
        widgets: (p.decl.frontend?.widgets ?? []).filter((w) => w.roles.includes(caller.role)),
        pages: (p.decl.frontend?.pages ?? []).filter((pg) => pg.roles.includes(caller.role)).map(({ module: _m, ...pg }) => pg),
      });
    }
    return out;
  }

  // ---- events and jobs ----------------------------------------------------------------

  /** Hands committed events to every plugin (enabled for the org) that listens to their types. */
  async dispatchEvents(orgId: string, events: StoredEvent[]) {
    const org = await this.s.callers.org(orgId);
    if (!org) return;
    for (const p of this.active) {
      if (!p.handlers.length || !(await this.isEnabled(orgId, p.decl.id)) || (await this.unavailableProvider(p, orgId))) continue;
      const ctx = tenantContext(p.scope, org, null);
      for (const h of p.handlers) {
        const mine = h.types === '*' ? events : events.filter((e) => (h.types as string[]).includes(e.event_type));
        if (!mine.length) continue;
        try {
          await h.handle(mine, ctx);
        } catch (err) {
          ctx.logger.error({ err }, 'event handler failed');
        }
      }
    }
  }

  /**
   * Subscribes the plugins' `env.onBus` handlers. Once per cluster event: only the node
   * that published a message runs them (in Redis mode every node receives it), with a
   * context bound to the message's org, for orgs where the plugin is enabled.
   */
  startBusSubscriptions() {
    for (const p of this.active) {
      for (const b of p.busHandlers ?? []) {
        for (const topic of b.topics) {
          const off = this.s.bus.subscribe(topic, (msg) => {
            if (msg.node !== this.s.bus.node || msg.orgId === '*' || this.stopping) return;
            void this.track(this.runBusHandler(p, b, msg));
          });
          this.unsubscribers.push(off);
        }
      }
    }
  }

  private async runBusHandler(p: ActivePlugin, b: BusSubscriptionDecl, msg: BusMessage & { node?: string }) {
    try {
      if (p.status !== 'active' || !(await this.isEnabled(msg.orgId, p.decl.id)) || (await this.unavailableProvider(p, msg.orgId))) return;
      const org = await this.s.callers.org(msg.orgId);
      if (!org) return;
      const { node: _node, ...plain } = msg;
      await b.handle(plain, tenantContext(p.scope, org, null));
    } catch (err) {
      p.scope.cradle.pluginLogger.error({ err, topic: msg.topic }, 'bus handler failed');
    }
  }

  /** Starts every plugin job on a timer. Each run takes a lock row so one node runs it per org. */
  startJobs() {
    let stagger = 0;
    for (const p of this.active) {
      for (const job of p.jobs) {
        const run = () => void this.track(this.runJobForAllOrgs(p, job.name).catch((err) => this.s.logger.error({ err, job: job.name }, 'job run failed')));
        // a first run soon after start, so derived data (scores, rollups) is there without
        // waiting a whole period; staggered so jobs do not all start in the same second
        const first = setTimeout(run, 2000 + 500 * stagger++);
        const every = setInterval(run, job.everySeconds * 1000);
        first.unref();
        every.unref();
        this.timers.push(first, every);
      }
    }
  }

  private track<T>(pr: Promise<T>) {
    this.running.add(pr);
    pr.finally(() => this.running.delete(pr));
    return pr;
  }

  /** Runs a job now for every org where the plugin is enabled (the scheduler, and tests). */
  async runJobForAllOrgs(p: ActivePlugin | string, jobName: string) {
    const results: Record<string, unknown> = {};
    for (const org of await this.s.orgService.list()) {
      if (this.stopping) break;
      const r = await this.runJobForOrg(p, jobName, org);
      if (r.status !== 'skipped') results[org.slug] = r.status === 'ok' ? (r.result ?? 'ok') : { error: r.error };
    }
    return results;
  }

  /** Runs one job for one org under its lock; `skipped` when disabled or another node holds the lock. */
  async runJobForOrg(p: ActivePlugin | string, jobName: string, org: Org): Promise<{ status: 'ok' | 'failed' | 'skipped'; result?: unknown; error?: string }> {
    const plugin = typeof p === 'string' ? this.active.find((a) => a.decl.id === p) : p;
    const job = plugin?.jobs.find((j) => j.name === jobName);
    if (!plugin || !job) throw new HttpError(404, 'not_found', `no job ${typeof p === 'string' ? p : p.decl.id}/${jobName}`);
    if (!(await this.isEnabled(org.id, plugin.decl.id)) || (await this.unavailableProvider(plugin, org.id))) return { status: 'skipped' };
    const key = `${plugin.decl.id}.${job.name}`;
    if (!(await this.lock(key, org.id, job.everySeconds))) return { status: 'skipped' };
    try {
      const result = (await job.run(tenantContext(plugin.scope, org, null))) ?? null;
      await this.finish(key, org.id, 'ok', null, result);
      return { status: 'ok', result };
    } catch (err) {
      await this.finish(key, org.id, 'failed', (err as Error).message, null);
      plugin.scope.cradle.pluginLogger.error({ err, job: job.name, org: org.slug }, 'job failed');
      return { status: 'failed', error: (err as Error).message };
    }
  }

  /** Every job of the active plugins, with the org's last recorded run. */
  async jobsFor(org: Org) {
    const runs = await this.s.knex.withSchema('public').table('job_runs').where({ org_id: org.id });
    const byKey = new Map(runs.map((r: any) => [r.job, r]));
    return this.active.flatMap((p) =>
      p.jobs.map((j) => {
        const r: any = byKey.get(`${p.decl.id}.${j.name}`);
        const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);
        return {
          plugin: p.decl.id,
          job: j.name,
          every_seconds: j.everySeconds,
          last_started_at: iso(r?.last_started_at),
          last_finished_at: iso(r?.last_finished_at),
          last_status: r?.last_status ?? null,
          last_error: r?.last_error ?? null,
          running: !!(r?.locked_until && new Date(r.locked_until).getTime() > Date.now()),
        };
      }),
    );
  }

  /** Runs a kernel job for all orgs at once (the rollup folds) under its lock, recorded like plugin jobs; false when another node holds it. */
  async runKernelJob(job: string, seconds: number, fn: () => Promise<unknown>): Promise<boolean> {
    if (!(await this.lock(job, '*', seconds))) return false;
    try {
      const result = await fn();
      await this.finish(job, '*', 'ok', null, result ?? null);
    } catch (err) {
      await this.finish(job, '*', 'failed', (err as Error).message, null);
      throw err;
    }
    return true;
  }

  private async lock(job: string, orgId: string, seconds: number): Promise<boolean> {
    const knex = this.s.knex;
    const until = new Date(Date.now() + Math.max(seconds * 2, 60) * 1000);
    await knex.withSchema('public').table('job_runs').insert({ job, org_id: orgId }).onConflict(['job', 'org_id']).ignore();
    const n = await knex
      .withSchema('public')
      .table('job_runs')
      .where({ job, org_id: orgId })
      .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<', new Date()))
      .update({ locked_until: until, locked_by: this.node, last_started_at: new Date() });
    return n === 1;
  }

  private async finish(job: string, orgId: string, status: string, error: string | null, result: unknown) {
    await this.s.knex
      .withSchema('public')
      .table('job_runs')
      .where({ job, org_id: orgId, locked_by: this.node })
      .update({ locked_until: null, last_finished_at: new Date(), last_status: status, last_error: error, last_result: result === null ? null : JSON.stringify(result) });
  }

  /** Stops timers and waits for running jobs, so a shutdown loses no half-written work. */
  async stop() {
    this.stopping = true;
    this.answers.stop();
    for (const t of this.timers) clearTimeout(t);
    for (const off of this.unsubscribers.splice(0)) off();
    await Promise.allSettled([...this.running]);
  }
}

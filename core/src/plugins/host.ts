import type { AwilixContainer } from 'awilix';
import type { FastifyInstance } from 'fastify';
import type { Caller, Org, StoredEvent } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { RefusedPlugin } from './loader.ts';
import type { ActivePlugin, PluginGate } from './active.ts';
import { AnswerCache } from './answerCache.ts';
import { unavailableProvider } from './serviceAccess.ts';
import { chMigrationSets, initPlugins, loadPlugins, pgMigrationSets, type LoadOptions } from './loading.ts';
import { Enablement } from './enablement.ts';
import { mountPluginRoutes } from './mount.ts';
import { serveFrontends } from './frontends.ts';
import { pluginManifest } from './manifest.ts';
import { BusSubscriptions, dispatchEvents } from './events.ts';
import { seedDemoData } from './demo.ts';
import { JobRunner } from './jobs.ts';
import { InFlight } from './inflight.ts';

export type { ActivePlugin } from './active.ts';

/**
 * The kernel's plugins, one object the rest of the kernel talks to. Each job lives in its
 * own module: loading and init (loading.ts, pluginConfig.ts), per-tenant enablement
 * (enablement.ts), HTTP and remembered answers (mount.ts, answerCache.ts), frontends and
 * the manifest (frontends.ts, manifest.ts), events and bus handlers (events.ts), jobs
 * (jobs.ts). A plugin disabled for a tenant answers 404 for that tenant only.
 */
export class PluginHost implements PluginGate {
  readonly active: ActivePlugin[] = [];
  readonly refused: RefusedPlugin[] = [];

  /** remembered answers of the routes that opt in (see answerCache.ts) */
  readonly answers = new AnswerCache();

  private readonly work = new InFlight();
  /** aborted when the host stops: the plugin routes' streams end (`RouteRequest.signal`) */
  private readonly closing = new AbortController();
  private readonly enablement: Enablement;
  private readonly bus: BusSubscriptions;
  private readonly jobs: JobRunner;

  constructor(private container: AwilixContainer<Internals>) {
    // the cradle resolves on each access, so services registered after the host are found
    const s = container.cradle;
    this.enablement = new Enablement(s, () => this.active);
    this.bus = new BusSubscriptions(this, s, this.work);
    this.jobs = new JobRunner(this, s, this.work);
  }

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

  // ---- loading -------------------------------------------------------------------------

  /** Loads plugin folders and in-memory declarations (the test harness passes those). */
  async load(opts: LoadOptions) {
    this.active.push(...(await loadPlugins(this.container, opts, (r) => this.refuse(r))));
  }

  private refuse(r: RefusedPlugin) {
    this.refused.push(r);
    this.container.cradle.logger.error({ plugin: r.id, source: r.source }, r.error);
  }

  init() {
    return initPlugins(this.active, this.container.cradle.logger);
  }

  pgMigrationSets() {
    return pgMigrationSets(this.active);
  }

  chMigrationSets() {
    return chMigrationSets(this.active);
  }

  // ---- enablement and dependencies -------------------------------------------------------

  isEnabled(orgId: string, pluginId: string) {
    return this.enablement.isEnabled(orgId, pluginId);
  }

  /** Best effort, from the cache (used where an await is not worth it). */
  isEnabledSync(orgId: string, pluginId: string) {
    return this.enablement.isEnabledSync(orgId, pluginId);
  }

  setEnabled(org: Org, pluginId: string, enabled: boolean) {
    return this.enablement.setEnabled(org, pluginId, enabled);
  }

  forgetEnablement(orgId?: string) {
    this.enablement.forget(orgId);
  }

  /** 424 for an org where a provider the plugin needs is off (or failed), else null. */
  unavailableProvider(p: ActivePlugin, orgId: string) {
    return unavailableProvider(this, p, orgId);
  }

  // ---- HTTP, frontends, manifest ---------------------------------------------------------

  /** Mounts every active plugin's routes under /api/v1/<prefix>, then serves their frontends. */
  async mount(app: FastifyInstance) {
    await mountPluginRoutes(app, this, this.answers, this.container.cradle, this.closing.signal);
    await serveFrontends(app, this.active);
  }

  manifest(org: Org, caller: Caller, all = false) {
    return pluginManifest(this, org, caller, all);
  }

  // ---- events and jobs -------------------------------------------------------------------

  dispatchEvents(orgId: string, events: StoredEvent[]) {
    return dispatchEvents(this, this.container.cradle, orgId, events);
  }

  /** Runs the plugins' demo data seeders for an org that was just given demo events. */
  seedDemoData(org: Org, span: { from: Date; to: Date }) {
    return seedDemoData(this, this.container.cradle.logger, org, span);
  }

  startBusSubscriptions() {
    this.bus.start();
  }

  startJobs() {
    this.jobs.start();
  }

  /** Every job's first run after start has finished (see JobRunner.firstRuns). */
  jobsFirstRuns() {
    return this.jobs.firstRuns();
  }

  runJobForAllOrgs(p: ActivePlugin | string, jobName: string) {
    return this.jobs.runForAllOrgs(p, jobName);
  }

  runJobForOrg(p: ActivePlugin | string, jobName: string, org: Org) {
    return this.jobs.runForOrg(p, jobName, org);
  }

  jobsFor(org: Org) {
    return this.jobs.jobsFor(org);
  }

  runKernelJob(job: string, seconds: number, fn: () => Promise<unknown>) {
    return this.jobs.runKernelJob(job, seconds, fn);
  }

  /** Stops timers and waits for running jobs, so a shutdown loses no half-written work. */
  async stop() {
    this.work.stopping = true;
    this.closing.abort(new Error('the platform is shutting down'));
    this.answers.stop();
    this.jobs.stop();
    this.bus.stop();
    await this.work.drain();
  }
}

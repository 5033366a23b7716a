import { hostname } from 'node:os';
import { HttpError, type Org } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { tenantContext } from './context.ts';
import type { ActivePlugin, PluginGate } from './active.ts';
import type { InFlight } from './inflight.ts';

export type JobRunResult = { status: 'ok' | 'failed' | 'skipped'; result?: unknown; error?: string };

/**
 * Runs plugin jobs on their schedules and on demand, and kernel jobs (the rollup folds).
 * Each run takes a lock row in `public.job_runs`, so one node runs a job per org, and
 * records its last run there.
 */
export class JobRunner {
  private timers: NodeJS.Timeout[] = [];
  private firstPending: Array<Promise<unknown>> = [];
  private readonly node = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    private gate: PluginGate,
    private deps: Pick<Internals, 'knex' | 'logger' | 'orgService'>,
    private work: InFlight,
  ) {}

  /** Starts every plugin job on a timer. */
  start() {
    let stagger = 0;
    for (const p of this.gate.active) {
      for (const job of p.jobs) {
        const run = () => this.work.track(this.runForAllOrgs(p, job.name).catch((err) => this.deps.logger.error({ err, job: job.name }, 'job run failed')));
        // a first run soon after start, so derived data (scores, rollups) is there without
        // waiting a whole period; staggered so jobs do not all start in the same second
        let firstDone!: () => void;
        this.firstPending.push(new Promise<void>((ok) => (firstDone = ok)));
        const first = setTimeout(() => void run().finally(firstDone), 2000 + 500 * stagger++);
        const every = setInterval(() => void run(), job.everySeconds * 1000);
        first.unref();
        every.unref();
        this.timers.push(first, every);
      }
    }
  }

  stop() {
    for (const t of this.timers) clearTimeout(t);
  }

  /**
   * Resolves once every job's first run after start has finished (a plugin's first run can
   * be a backfill, e.g. adoption scores the past weeks): what a benchmark waits for before it
   * measures the steady state.
   */
  firstRuns(): Promise<void> {
    return Promise.all(this.firstPending).then(() => undefined);
  }

  /** Runs a job now for every org where the plugin is enabled (the scheduler, and tests). */
  async runForAllOrgs(p: ActivePlugin | string, jobName: string) {
    const results: Record<string, unknown> = {};
    for (const org of await this.deps.orgService.list()) {
      if (this.work.stopping) break;
      const r = await this.runForOrg(p, jobName, org);
      if (r.status !== 'skipped') results[org.slug] = r.status === 'ok' ? (r.result ?? 'ok') : { error: r.error };
    }
    return results;
  }

  /** Runs one job for one org under its lock; `skipped` when disabled or another node holds the lock. */
  async runForOrg(p: ActivePlugin | string, jobName: string, org: Org): Promise<JobRunResult> {
    const plugin = typeof p === 'string' ? this.gate.active.find((a) => a.decl.id === p) : p;
    const job = plugin?.jobs.find((j) => j.name === jobName);
    if (!plugin || !job) throw new HttpError(404, 'not_found', `no job ${typeof p === 'string' ? p : p.decl.id}/${jobName}`);
    if (!(await this.gate.isEnabled(org.id, plugin.decl.id)) || (await this.gate.unavailableProvider(plugin, org.id))) return { status: 'skipped' };
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
    const runs = await this.deps.knex.withSchema('public').table('job_runs').where({ org_id: org.id });
    const byKey = new Map(runs.map((r: any) => [r.job, r]));
    return this.gate.active.flatMap((p) =>
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
    const knex = this.deps.knex;
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
    await this.deps.knex
      .withSchema('public')
      .table('job_runs')
      .where({ job, org_id: orgId, locked_by: this.node })
      .update({ locked_until: null, last_finished_at: new Date(), last_status: status, last_error: error, last_result: result === null ? null : JSON.stringify(result) });
  }
}

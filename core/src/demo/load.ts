import { randomUUID } from 'node:crypto';
import type { Org } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { DEMO_DEPARTMENTS, demoEvents, demoUsers } from './generate.ts';
import { hashPassword } from '../auth/passwords.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type DemoDataDeps = Pick<Internals, 'analytics' | 'knex'>;

/**
 * Seeds the bootstrap org: departments, ~200 people with roles (one Manager per
 * department), and the last 30 days of events written straight into the
 * events table in 10k-row batches (STACK.md: keeps the event loop responsive).
 */
export async function loadDemoData(s: DemoDataDeps, org: Org, opts: { days?: number } = {}) {
  const knex = s.knex;
  const deptIds = DEMO_DEPARTMENTS.map(() => randomUUID());
  await knex.withSchema(org.schema).table('departments').insert(DEMO_DEPARTMENTS.map((d, i) => ({ id: deptIds[i], name: d.name })));
  const users = demoUsers(() => randomUUID());
  // one shared hash: demo people can log in with the same password, and seeding stays fast
  const hash = await hashPassword('Demo-password-2026');
  const managerOf = new Set<number>();
  for (let i = 0; i < users.length; i += 500) {
    const chunk = users.slice(i, i + 500);
    await knex.withSchema('public').table('users').insert(chunk.map((u) => ({ id: u.id, email: u.email, display_name: u.name, password_hash: hash })));
    const rows = chunk.map((u) => {
      const manager = !managerOf.has(u.department);
      if (manager) managerOf.add(u.department);
      return { u, manager };
    });
    await knex.withSchema('public').table('memberships').insert(rows.map(({ u, manager }) => ({ org_id: org.id, user_id: u.id, role: manager ? 'Manager' : 'Developer' })));
    await knex.withSchema(org.schema).table('department_members').insert(rows.map(({ u, manager }) => ({ department_id: deptIds[u.department], user_id: u.id, manager })));
  }
  const days = opts.days ?? 30;
  const to = new Date();
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()) - (days - 1) * 86_400_000);
  const events = await insertDemoEvents(s, org, demoEvents(users, deptIds, from, to), (e) => (e.timestamp as number) <= Date.now());
  return { users: users.length, departments: deptIds.length, events, from, to };
}

/**
 * Writes generated events straight into the events table in 10k-row batches (STACK.md: keeps
 * the event loop responsive), those `keep` accepts; `received_at` when given, else the store's
 * clock. Answers how many were written.
 */
export async function insertDemoEvents(
  s: DemoDataDeps,
  org: Org,
  batches: Iterable<Record<string, unknown>[]>,
  keep: (e: Record<string, unknown>) => boolean,
  receivedAt?: number,
): Promise<number> {
  const table = `${s.analytics.database}.events`;
  let events = 0;
  let pending: Record<string, unknown>[] = [];
  const stamp = receivedAt === undefined ? {} : { received_at: toCh(receivedAt) };
  const flush = async () => {
    if (!pending.length) return;
    await s.analytics.client.insert({ table, values: pending.map((e) => ({ ...e, ...stamp, org_id: org.id, timestamp: toCh(e.timestamp as number) })), format: 'JSONEachRow' });
    events += pending.length;
    pending = [];
  };
  for (const batch of batches) {
    for (const e of batch) {
      if (!keep(e)) continue;
      pending.push(e);
      if (pending.length >= 10_000) await flush();
    }
  }
  await flush();
  return events;
}

const toCh = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * The knowledge benches' org: the demo month (200 people, ~112k events over 30 days, ~1k of
 * them knowledge_artifact) ending at `now`, times `scale` (copies under other user, session,
 * event and artifact ids: more people doing the same, with their own artifacts).
 */
import { type TestBackend } from '@orrery/backend-test-utils';
// seeded exactly as the demo loader does (benchmarks may use the kernel; plugins may not)
import { DEMO_DEPARTMENTS, demoEvents, demoUsers } from '../../core/src/demo/generate.ts';

const DAY = 86_400_000;
const uuid = (prefix: number, i: number) => `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

export async function seedKnowledgeOrg(b: TestBackend, now: Date, scale: number): Promise<{ events: number; knowledge: number }> {
  const s = b.kernel.services;
  const deptIds = DEMO_DEPARTMENTS.map((_, i) => uuid(1, i));
  const users = demoUsers((i) => uuid(2, i));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const batch: Record<string, unknown>[] = [];
  for (const day of demoEvents(users, deptIds, new Date(today - 29 * DAY), new Date(today + DAY))) for (const e of day) if ((e.timestamp as number) <= now.getTime()) batch.push(e);
  await b.org.insertEvents(batch);
  const table = `${s.analytics.database}.events`;
  if (scale > 1)
    await s.analytics.client.command({
      query: `INSERT INTO ${table} SELECT e.* REPLACE (concat(event_id, '~', toString(n.number)) AS event_id, concat(user_id, '~', toString(n.number)) AS user_id,
                if(session_id = '', '', concat(session_id, '~', toString(n.number))) AS session_id,
                if(artifact_id = '', '', concat(artifact_id, '~', toString(n.number))) AS artifact_id)
                FROM ${table} AS e CROSS JOIN numbers(1, ${scale - 1}) AS n WHERE e.org_id = '${b.org.id}'`,
      clickhouse_settings: { max_insert_threads: 2 },
    });
  const rows = (await (await s.analytics.client.query({
    query: `SELECT count() AS n, countIf(event_type = 'knowledge_artifact') AS k FROM ${table} WHERE org_id = '${b.org.id}'`,
    format: 'JSONEachRow',
  })).json()) as Array<{ n: number; k: number }>;
  return { events: Number(rows[0]!.n), knowledge: Number(rows[0]!.k) };
}

/**
 * The funnels benches' events, generated inside ClickHouse (integer formulas over numbers(), the
 * rows never pass through Node): commands /c0…/c9, feature uses and workflow runs (`onboarding`,
 * `pr-review`) over the `DAYS` days before `END`, `users` distinct users drawn from a 64-bit hash
 * of the row number. Every run with the same sizes gives the same events.
 */
import type { TestBackend } from '@orrery/backend-test-utils';

export const DAYS = 30;
export const END = Date.parse('2026-06-01T00:00:00Z');

export async function seedFunnelsBench(b: TestBackend, events: number, users: number): Promise<void> {
  const s = b.kernel.services;
  const db = s.analytics.database;
  const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263, 374761393, 1597334677][k % 6]} + ${k * 7 + 1}) % 4294967296, 65536)`;
  // h() has 16 bits: a user drawn from it could be one of 65,536 at most, whatever `users` says
  const user = `(intHash64(number) % ${users})`;
  const kind = `${h(3)} % 100`;
  await s.analytics.client.command({
    query: `INSERT INTO ${db}.events (org_id, event_id, event_type, action, timestamp, department_id, user_id, session_id, command_name, feature_name, workflow_id, workflow_step, step_index)
      SELECT '${b.org.id}', concat('b', toString(number)),
        multiIf(${kind} < 60, 'command', ${kind} < 85, 'feature_use', 'workflow_step'),
        if(${kind} >= 85, ['enrolled', 'step_entered', 'step_completed', 'step_entered', 'step_completed', 'goal_reached', 'exited'][${h(4)} % 7 + 1], ''),
        fromUnixTimestamp64Milli(toInt64(${END} - (${h(1)} * 65536 + ${h(2)}) % ${DAYS * 86_400_000}), 'UTC'),
        concat('dept-', toString(${user} % 20)),
        concat('u', toString(${user})),
        concat('s', toString(${user})),
        if(${kind} < 60, concat('/c', toString(${h(5)} % 10)), ''),
        if(${kind} >= 60 AND ${kind} < 85, concat('f', toString(${h(5)} % 6)), ''),
        if(${kind} >= 85, ['onboarding', 'pr-review'][${h(5)} % 2 + 1], ''),
        if(${kind} >= 85, concat('s', toString(${h(2)} % 4)), ''),
        if(${kind} >= 85, ${h(2)} % 4 + 1, 0)
      FROM numbers(${events})`,
    clickhouse_settings: { max_insert_threads: 2 },
  });
}

import { describe, expect, it } from 'vitest';
import { compileMetricsQuery, groupingSetsSql, type MetricsQuery } from '../backend/metricsQuery.ts';
import { compilePlanned } from '../backend/planner.ts';

/**
 * The one-scan form of a bucketed answer (totals and buckets together): its shape for the raw
 * and the planned compilers. That its numbers equal the brute-force reference is proven by
 * metricsQuery.test.ts, planner.test.ts and api.test.ts, whose answers all go through it.
 */
const range = { from: new Date('2026-10-20T00:00:00Z'), to: new Date('2026-10-27T00:00:00Z') };
const table = (n: string) => `db.${n}`;

describe('groupingSetsSql', () => {
  for (const group_by of [[], ['agent_name'], ['agent_name', 'status', 'model_used']]) {
    it(`groups by (${group_by.join(', ')}, bucket) and by (${group_by.join(', ')}) in one statement`, () => {
      const q: MetricsQuery = { event_type: 'agent_invocation', measure: 'p95', field: 'execution_time_ms', group_by, granularity: 'hour' } as MetricsQuery;
      const sql = groupingSetsSql(compileMetricsQuery(q, range, 'db.events').sql)!;
      const dims = group_by.map((_, i) => `g${i}`);
      expect(sql).toMatch(/^SELECT grouping\(bucket\) AS t__total, /);
      expect(sql).toContain(`GROUP BY GROUPING SETS ((${[...dims, 'bucket'].join(', ')}), (${dims.join(', ')}))`);
      expect(sql.match(/GROUP BY/g)).toHaveLength(1);
    });
  }

  it('turns the planned statement (rollup and raw arms) into one too, grouping only the outer query', () => {
    const q = { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], granularity: 'hour' } as MetricsQuery;
    const planned = compilePlanned(q, range, table, new Date('2026-10-26T12:00:00Z'), null)!;
    const sql = groupingSetsSql(planned.sql)!;
    expect(sql).toContain('GROUP BY GROUPING SETS ((g0, bucket), (g0)) ORDER BY t__total, g0, bucket');
    // the arms keep their own GROUP BY
    expect(sql.match(/GROUP BY g0, b_ts/g)!.length).toBe(planned.sql.match(/GROUP BY g0, b_ts/g)!.length);
  });

  it('leaves a statement without buckets alone', () => {
    const q = { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'] } as MetricsQuery;
    expect(groupingSetsSql(compileMetricsQuery(q, range, 'db.events').sql)).toBeNull();
  });
});

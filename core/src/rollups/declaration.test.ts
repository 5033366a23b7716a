/** The loader refuses a plugin whose rollups cannot be folded, naming the problem. */
import { describe, expect, it } from 'vitest';
import { defineRollup, foldPlan, rebuildSpan, rollupDdl, type RollupDecl } from '@orrery/plugin-sdk';
import { checkDeclaration } from '../plugins/loader.ts';

const plugin = (rollups: unknown) => ({
  id: 'bad-rollups',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'Bad rollups',
  description: '',
  routePrefix: 'bad-rollups',
  permissions: {},
  rollups,
  register() {},
});
const taken = () => ({ ids: new Set<string>(), prefixes: new Map<string, string>() });
const measure = { name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' };
const base = { name: 'calls', source: 'events', dimensions: ['agent_name'], measures: [measure] };

describe('rollup declarations at load', () => {
  it('refuses two roots, a parent that lacks a dimension, a measure the cascade cannot merge and a name used twice', () => {
    const twoRoots = { ...base, tables: [{ table: 'a', grain: 'hour', dims: ['agent_name'] }, { table: 'b', grain: 'day', dims: ['agent_name'] }] };
    expect(() => checkDeclaration(plugin([twoRoots]), 'test', taken())).toThrow(/rollups\[0\]: rollup calls: exactly one root/);
    const lost = { ...base, dimensions: ['agent_name', 'status'], tables: [{ table: 'a', grain: 'hour', dims: ['agent_name', 'status'] }, { table: 'b', grain: 'day', dims: ['status'], from: 'c' }] };
    expect(() => checkDeclaration(plugin([lost]), 'test', taken())).toThrow(/unknown table c/);
    const plain = { ...base, measures: [{ name: 'n', type: 'UInt64', expr: 'count()' }], tables: [{ table: 'a', grain: 'hour', dims: ['agent_name'] }] };
    expect(() => checkDeclaration(plugin([plain]), 'test', taken())).toThrow(/neither SimpleAggregateFunction nor AggregateFunction/);
    const ok = { ...base, tables: [{ table: 'a', grain: 'hour', dims: ['agent_name'] }] };
    expect(() => checkDeclaration(plugin([ok, ok]), 'test', taken())).toThrow(/"calls" is declared twice/);
    expect(() => checkDeclaration(plugin({}), 'test', taken())).toThrow(/rollups must be a list/);
    expect(checkDeclaration(plugin([ok]), 'test', taken()).decl.id).toBe('bad-rollups');
  });
});

describe('month grain', () => {
  const decl = (grain: 'day' | 'month') =>
    defineRollup({ ...base, tables: [{ table: 'a', grain, dims: ['agent_name'] }] } as RollupDecl);
  const at = (iso: string) => Date.parse(iso);

  it('rebuilds whole UTC months for a month-grained table, whole UTC days otherwise', () => {
    const [a, b] = [at('2026-03-10T05:00:00Z'), at('2026-03-12T00:00:00Z')];
    expect(rebuildSpan(decl('month'), a, b)).toEqual([at('2026-03-01T00:00:00Z'), at('2026-04-01T00:00:00Z')]);
    expect(rebuildSpan(decl('day'), a, b)).toEqual([at('2026-03-10T00:00:00Z'), at('2026-03-12T00:00:00Z')]);
    // a span ending on a month's first instant stays in the month before; one across a year end takes both months
    expect(rebuildSpan(decl('month'), at('2026-01-31T00:00:00Z'), at('2026-02-01T00:00:00Z'))).toEqual([at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z')]);
    expect(rebuildSpan(decl('month'), at('2025-12-31T23:00:00Z'), at('2026-01-01T01:00:00Z'))).toEqual([at('2025-12-01T00:00:00Z'), at('2026-02-01T00:00:00Z')]);
  });

  it('buckets by the month\'s first instant in UTC and partitions by year', () => {
    const d = decl('month');
    expect(rollupDdl(d)[0]).toMatch(/PARTITION BY toYear\(bucket\)/);
    expect(foldPlan(d, '1').publish[0]!.sql).toMatch(/toDateTime\(toStartOfMonth\(timestamp\), 'UTC'\) AS b__bucket/);
    // a coarser parent is refused as before
    expect(() => defineRollup({ ...base, tables: [{ table: 'a', grain: 'month', dims: ['agent_name'] }, { table: 'b', grain: 'day', dims: ['agent_name'], from: 'a' }] } as RollupDecl)).toThrow(/coarser/);
  });
});

describe('high-cardinality dimensions', () => {
  const users = { name: 'users', source: 'events' as const, dimensions: ['user_id', 'department_id'], measures: [measure], tables: [{ table: 'u', grain: 'month' as const, dims: ['user_id', 'department_id'] }] };

  it('stores them as plain String and the others as LowCardinality(String)', () => {
    const ddl = rollupDdl(defineRollup({ ...users, highCardinality: ['user_id'] }))[0]!;
    expect(ddl).toMatch(/user_id String,/);
    expect(ddl).toMatch(/department_id LowCardinality\(String\)/);
    // without the option every dimension stays LowCardinality, as before
    expect(rollupDdl(defineRollup(users))[0]).toMatch(/user_id LowCardinality\(String\)/);
  });

  it('refuses a name that is not a dimension', () => {
    expect(() => checkDeclaration(plugin([{ ...users, highCardinality: ['session_id'] }]), 'test', taken())).toThrow(/highCardinality names session_id, which are not dimensions/);
  });
});

/** The loader refuses a plugin whose rollups cannot be folded, naming the problem. */
import { describe, expect, it } from 'vitest';
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

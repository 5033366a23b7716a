import { describe, expect, it } from 'vitest';
import { createServiceRef, need, provide, type PluginDeclaration } from '@orrery/plugin-sdk';
import { resolveDependencies } from './dependencies.ts';
import type { LoadedPlugin } from './loader.ts';

const queryRef = createServiceRef<object>({ id: 'query', version: '1.0.0' });
const sourceRef = createServiceRef<object>({ id: 'source', version: '1.0.0', multiple: true });
const pingRef = createServiceRef<object>({ id: 'ping', version: '1.0.0' });
const pongRef = createServiceRef<object>({ id: 'pong', version: '1.0.0' });
const plugin = (id: string, decl: Partial<PluginDeclaration>) => ({ decl: { id, ...decl } as PluginDeclaration }) as unknown as LoadedPlugin;

describe('resolveDependencies', () => {
  it('loads a source that reads the query while the query reads every source optionally, the query first', () => {
    const query = plugin('query', { provides: [provide(queryRef, () => ({}))], needs: [need(sourceRef, '^1.0.0', { optional: true })] });
    const budgets = plugin('budgets', { provides: [provide(sourceRef, () => ({}))], needs: [need(queryRef, '^1.0.0')] });
    const other = plugin('other', { provides: [provide(sourceRef, () => ({}))] });
    const out = resolveDependencies([budgets, query, other]);
    expect(out.refused).toEqual([]);
    const order = out.ordered.map((p) => p.decl.id);
    expect(order.indexOf('query')).toBeLessThan(order.indexOf('budgets'));
    expect(order).toHaveLength(3);
  });

  it('still refuses a cycle of required needs', () => {
    const a = plugin('a', { provides: [provide(pingRef, () => ({}))], needs: [need(pongRef, '^1.0.0')] });
    const b = plugin('b', { provides: [provide(pongRef, () => ({}))], needs: [need(pingRef, '^1.0.0')] });
    const out = resolveDependencies([a, b]);
    expect(out.ordered).toEqual([]);
    expect(out.refused.map((r) => r.error)[0]).toMatch(/cycle/);
  });
});

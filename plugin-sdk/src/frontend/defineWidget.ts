import type { ComponentType } from 'react';
import type { WidgetDefinition, WidgetProps } from './types.ts';

/**
 * Declares a widget. The module a remote exposes as `./<widget id>` default-exports
 * the result:
 *
 *   export default defineWidget({ component: Welcome, optionsVersion: 2,
 *     migrate: (old, from) => from < 2 ? { ...old, metric: old.kind } : old });
 */
export function defineWidget<O = Record<string, unknown>>(def: {
  component: ComponentType<WidgetProps<O>>;
  defaults?: Partial<O>;
  optionsVersion?: number;
  migrate?(old: Record<string, unknown>, fromVersion: number): Partial<O>;
}): WidgetDefinition<O> {
  return Object.freeze({ ...def, kind: 'orrery.widget' as const, optionsVersion: def.optionsVersion ?? 1 });
}

/** Whether an exposed module's default export is a `defineWidget` result (else a bare component). */
export function isWidgetDefinition(x: unknown): x is WidgetDefinition<any> {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'orrery.widget';
}

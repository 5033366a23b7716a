import type { ComponentType } from 'react';
import { defaultsOf, type WidgetDecl } from '../contract/index.ts';
import type { WidgetDefinition, WidgetProps } from './types.ts';

/**
 * Declares a widget. The module a remote exposes as `./<widget id>` default-exports
 * the result. Given the widget's `declaration` (the plain data the backend's manifest
 * lists), the options version and the defaults (its options schema's `default`s) come
 * from there, so they are written once:
 *
 *   import { latency } from '../../widgets.ts';
 *   export default defineWidget({ component: Latency, declaration: latency,
 *     migrate: (old, from) => from < 2 ? { ...old, metric: old.kind } : old });
 */
export function defineWidget<O = Record<string, unknown>>(def: {
  component: ComponentType<WidgetProps<O>>;
  /** the widget's (or page's) plain declaration: options version and defaults come from it */
  declaration?: Pick<WidgetDecl, 'optionsSchema' | 'optionsVersion'>;
  defaults?: Partial<O>;
  optionsVersion?: number;
  migrate?(old: Record<string, unknown>, fromVersion: number): Partial<O>;
}): WidgetDefinition<O> {
  const { declaration, ...rest } = def;
  const defaults = declaration ? ({ ...defaultsOf(declaration.optionsSchema), ...rest.defaults } as Partial<O>) : rest.defaults;
  const optionsVersion = declaration?.optionsVersion ?? rest.optionsVersion ?? 1;
  return Object.freeze({ ...rest, defaults, kind: 'orrery.widget' as const, optionsVersion });
}

/** Whether an exposed module's default export is a `defineWidget` result (else a bare component). */
export function isWidgetDefinition(x: unknown): x is WidgetDefinition<any> {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'orrery.widget';
}

import { createContext, useContext } from 'react';
import type { WidgetContext } from './types.ts';

/**
 * The host wraps each grid cell in this provider. Because the SDK module is a federation
 * singleton, the remote's `useWidget()` reads the very context object the host created.
 */
export const WidgetContextReact = createContext<WidgetContext<any> | null>(null);
export const WidgetProvider = WidgetContextReact.Provider;

export function useWidget<O = Record<string, unknown>>(): WidgetContext<O> {
  const ctx = useContext(WidgetContextReact);
  if (!ctx) {
    throw new Error('useWidget() must be called inside a widget rendered by the Orrery host (no WidgetProvider above). If the host is there, the SDK is probably loaded twice: check that @orrery/plugin-sdk/frontend is a shared singleton in the remote build.');
  }
  return ctx as WidgetContext<O>;
}

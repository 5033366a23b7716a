/**
 * What a named dashboard imposes on every widget on it: its department and agent filters,
 * and a tick that its auto-refresh interval bumps (added to each cell's refresh key, on
 * top of the live updates widgets get from the bus). Outside a named dashboard: nothing.
 */
import { createContext, useContext } from 'react';

export interface DashboardScope {
  department: { id: string; name: string } | null;
  filters: { agent_name?: string };
  tick: number;
}

const ScopeCtx = createContext<DashboardScope | null>(null);
export const DashboardScopeProvider = ScopeCtx.Provider;
export const useDashboardScope = () => useContext(ScopeCtx);

/** Auto-refresh choices offered (seconds; 0 = off), as the dashboards plugin accepts them. */
export const REFRESH_CHOICES: ReadonlyArray<{ seconds: number; label: string }> = [
  { seconds: 0, label: 'Off' },
  { seconds: 5, label: 'Every 5 s' },
  { seconds: 30, label: 'Every 30 s' },
  { seconds: 60, label: 'Every minute' },
  { seconds: 300, label: 'Every 5 minutes' },
];

/**
 * Where an Admin is in the setup wizard. Kept in this browser per user and org: the
 * wizard only records what was done or skipped here; the settings themselves live on
 * the server, and every step re-reads them when it opens.
 */
export type StepId = 'departments' | 'adoption' | 'sso' | 'hook' | 'people';
export type StepState = 'done' | 'skipped';

export interface SetupProgress {
  steps: Partial<Record<StepId, StepState>>;
  /** the Admin finished the wizard or said "not now" on the dashboard */
  finished?: boolean;
  dismissed?: boolean;
}

const key = (orgId: string, userId: string) => `orrery.setup.${orgId}.${userId}`;

export function readProgress(orgId: string, userId: string): SetupProgress {
  try {
    const v = JSON.parse(localStorage.getItem(key(orgId, userId)) ?? 'null') as SetupProgress | null;
    if (v && typeof v === 'object' && v.steps) return v;
  } catch { /* a damaged entry starts over */ }
  return { steps: {} };
}

export function writeProgress(orgId: string, userId: string, p: SetupProgress) {
  localStorage.setItem(key(orgId, userId), JSON.stringify(p));
}

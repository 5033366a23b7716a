/** Small pieces the routes share. */
import { badRequest } from '@orrery/plugin-sdk';

/** the fixed contract path `/api/v1/budgets…` sits beside the plugin's `executive` prefix */
export const BUDGETS_PREFIX = 'budgets';

export const atQuery = {
  at: { type: 'string', format: 'date-time', description: 'the instant the figures are taken at (ISO 8601); default now' },
} as const;

export function atOf(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) throw badRequest(`at: "${at}" is not an ISO 8601 instant`, { field: 'at' });
  return d;
}

export const isoOrNull = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

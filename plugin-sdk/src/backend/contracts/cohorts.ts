/**
 * Cohort filters: named user sets a plugin can resolve to user ids for an org
 * (adoption's flagged users, user-activity's active users…). Retention,
 * funnels and experiments narrow their questions by them.
 */
import { badRequest } from '../types.ts';
import { createServiceRef } from '../services.ts';
import type { TimeRange } from '../timeRange.ts';

export interface CohortDefinition {
  /** unique within the source, e.g. `flagged` */
  name: string;
  title: string;
  description: string;
}

export interface CohortQuery {
  /** the period the cohort is taken over (a cohort that is a state now ignores it) */
  range: TimeRange;
}

export interface CohortFilterSource {
  readonly cohorts: readonly CohortDefinition[];
  /** the ids of the users in the cohort, sorted */
  resolve(name: string, q: CohortQuery): Promise<string[]>;
}

export const cohortFilterRef = createServiceRef<CohortFilterSource>({
  id: 'cohort-filter',
  version: '1.0.0',
  multiple: true,
  description: 'named user sets resolved to user ids for an org',
});

export function defineCohortFilters(cohorts: Array<CohortDefinition & { resolve(q: CohortQuery): Promise<string[]> }>): CohortFilterSource {
  const byName = new Map(cohorts.map((c) => [c.name, c]));
  return {
    cohorts: cohorts.map(({ resolve: _resolve, ...c }) => c),
    async resolve(name, q) {
      const c = byName.get(name);
      if (!c) throw badRequest(`unknown cohort "${name}"; this source offers ${[...byName.keys()].join(', ')}`, { field: 'cohort', value: name });
      return [...new Set(await c.resolve(q))].sort();
    },
  };
}

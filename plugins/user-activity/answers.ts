/**
 * What each route answers, declared once: the backend gives these schemas to fastify (which
 * documents them and serializes with them, dropping any property a schema does not list),
 * and the widgets read the types derived from them instead of re-declaring the answers.
 * Every field the code builds is listed (test/answers.test.ts compares each answer with the
 * same handler's answer serialized without a schema).
 */
import type { SchemaType } from '@orrery/plugin-sdk/contract';

const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const strings = { type: 'array', items: str } as const;
const numOrNull = { type: ['number', 'null'] } as const;
const strOrNull = { type: ['string', 'null'] } as const;

const object = <const P extends Record<string, unknown>>(properties: P) => ({ type: 'object', properties, required: Object.keys(properties) as Array<keyof P & string> }) as const;
const list = <const I>(items: I) => ({ type: 'array', items }) as const;

export const GRANULARITIES = ['day', 'week', 'month'] as const;
export const USAGE_KINDS = ['feature', 'command', 'tool', 'agent'] as const;

const sessionFigures = object({
  sessions: { ...int, description: 'distinct session ids' },
  avg_minutes: num,
  median_minutes: num,
  total_minutes: num,
  sessions_per_user_per_week: num,
});

const bucketValue = object({ bucket: { ...str, description: 'start of the bucket (ISO 8601, in `tz`)' }, value: int });

const lifecycleRow = object({ bucket: str, new: int, returning: int, resurrected: int, dormant: int });

const breakdownFigures = {
  active_users: int,
  dau: int,
  avg_dau: num,
  stickiness: num,
  events: int,
  success_rate: numOrNull,
} as const;

/** `GET /api/v1/metrics/dau` */
export const dauAnswer = object({ series: list(bucketValue) });

/** `GET /users/activity` */
export const activityAnswer = object({
  active_users: int,
  events: int,
  dau: int,
  wau: int,
  mau: int,
  avg_dau: num,
  stickiness: num,
  success_rate: numOrNull,
  sessions: sessionFigures,
  granularity: { type: 'string', enum: GRANULARITIES },
  series: list(bucketValue),
  by_department: list(object({ department_id: str, name: strOrNull, ...breakdownFigures })),
  by_agent: list(object({ agent: str, ...breakdownFigures })),
  lifecycle: list(lifecycleRow),
});

/** `GET /users/activity/heatmap`: the cells of the kind asked for */
export const heatmapAnswer = {
  anyOf: [
    object({ kind: { type: 'string', const: 'hour_weekday' }, cells: list(object({ weekday: { ...int, description: '1 = Monday' }, hour: int, events: int, users: int })) }),
    object({ kind: { type: 'string', const: 'department_week' }, cells: list(object({ department_id: str, name: strOrNull, week: str, users: int, events: int })) }),
  ],
} as const;

/** `GET /users/activity/lifecycle` */
export const lifecycleAnswer = object({ series: list(lifecycleRow) });

const usageFields = {
  kind: { type: 'string', enum: USAGE_KINDS },
  items: list(object({ name: str, uses: int, users: int, departments: int, share: num, success_rate: numOrNull })),
  distinct_items: int,
  diversity: object({ mean_items_per_user: num, median_items_per_user: num, users: int, evenness: numOrNull }),
} as const;

/** `GET /users/usage` and `GET /users/commands` */
export const usageAnswer = object(usageFields);

const engagementFigures = {
  user_id: str,
  events: int,
  active_days: int,
  sessions: int,
  features: int,
  commands: int,
  tools: int,
  agents: int,
  diversity: int,
  success_rate: numOrNull,
  last_seen: str,
} as const;

const teamMeans = object({ department_id: str, name: strOrNull, active_users: int, events: num, active_days: num, sessions: num, diversity: num, success_rate: numOrNull });

/** `GET /users/engagement` */
export const engagementAnswer = object({
  users: list(object({ rank: int, ...engagementFigures, email: strOrNull, display_name: strOrNull, department_ids: strings })),
  total_users: int,
  teams: list(teamMeans),
});

/** `GET /users/commands/sequences` */
export const sequencesAnswer = object({ n: int, sequences: list(object({ sequence: strings, occurrences: int, sessions: int, users: int })) });

/** `GET /users/commands/patterns` */
export const patternsAnswer = object({
  n: int,
  min_sessions: int,
  patterns: list(object({ sequence: strings, users: int, sessions: int, occurrences: int, kind: { type: 'string', enum: ['repeated_command', 'repeated_sequence'] }, suggestion: str })),
});

/** `GET /users/commands/overview` */
export const overviewAnswer = object({ ...usageFields, sequences: sequencesAnswer, patterns: patternsAnswer });

/** `GET /users/commands/adoption` */
export const adoptionAnswer = {
  type: 'object',
  required: ['commands'],
  properties: {
    commands: list(object({ command: str, departments: list(object({ department_id: str, name: strOrNull, series: list(object({ week: str, users: int, share_of_active: num, cumulative_adopters: int })) })) })),
    departments: { type: 'array', maxItems: 0, description: 'present (empty) when no command was run in the range' },
  },
} as const;

const top = list(object({ name: str, uses: int }));

/** `GET /users/{id}/analytics` */
export const userAnswer = object({
  user: object({ id: str, email: strOrNull, display_name: strOrNull, department_ids: strings }),
  totals: { anyOf: [object(engagementFigures), { type: 'null' }] },
  sessions: { anyOf: [sessionFigures, { type: 'null' }] },
  series: list(object({ bucket: str, events: int, successes: int, failures: int })),
  top: object({ feature: top, command: top, tool: top, agent: top }),
  compare: object({ teams: list(teamMeans), org: object({ active_users: int, events: num, active_days: num, diversity: num }) }),
});

export type DauAnswer = SchemaType<typeof dauAnswer>;
export type ActivityAnswer = SchemaType<typeof activityAnswer>;
export type HeatmapAnswer = SchemaType<typeof heatmapAnswer>;
export type LifecycleAnswer = SchemaType<typeof lifecycleAnswer>;
export type UsageAnswer = SchemaType<typeof usageAnswer>;
export type EngagementAnswer = SchemaType<typeof engagementAnswer>;
export type SequencesAnswer = SchemaType<typeof sequencesAnswer>;
export type PatternsAnswer = SchemaType<typeof patternsAnswer>;
export type OverviewAnswer = SchemaType<typeof overviewAnswer>;
export type AdoptionAnswer = SchemaType<typeof adoptionAnswer>;
export type UserAnswer = SchemaType<typeof userAnswer>;

/** Query-string schemas shared by the routes, and the response schemas that document them. */
import { timeRangeQuerySchema } from '@orrery/plugin-sdk';
import { namesSchema } from './names.ts';

export const str = (description: string) => ({ type: 'string', minLength: 1, maxLength: 200, description });

export const query = (extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  properties: { ...timeRangeQuerySchema, ...extra },
});

export const limit = (def: number, max: number) => ({ limit: { type: 'integer', minimum: 1, maximum: max, default: def, description: `at most this many rows (1–${max})` } });

const int = { type: 'integer' };
const rate = { type: ['number', 'null'] };
const s = { type: 'string' };

export const obj = (properties: Record<string, unknown>, required?: string[]) => ({ type: 'object', properties, ...(required ? { required } : {}) });
export const arr = (properties: Record<string, unknown>) => ({ type: 'array', items: obj(properties) });

export const summaryResponse = obj({
  created: { type: ['integer', 'null'] },
  annotated: { type: ['integer', 'null'] },
  reused: { type: ['integer', 'null'] },
  reuse_rate: rate,
  cross_department_reuse_rate: rate,
  users: { type: ['integer', 'null'] },
  artifacts_created: { type: ['integer', 'null'] },
  reused_by_others: { type: ['integer', 'null'] },
  reused_cross_department: { type: ['integer', 'null'] },
  suppressed: { type: 'boolean' },
  reason: s,
});

export const expertsResponse = obj({
  experts: arr({
    user_id: s,
    artifacts: int,
    reusers: int,
    reuses: int,
    departments_reached: int,
    top_artifacts: arr({ artifact_id: s, artifact_type: s, agent_name: s, reusers: int, reuses: int }),
  }),
  names: namesSchema,
});

export const flowResponse = obj({
  links: arr({ from_department_id: s, to_department_id: s, reuses: int, reusers: int, authors: int }),
  suppressed_links: int,
  min_group_size: int,
  names: namesSchema,
});

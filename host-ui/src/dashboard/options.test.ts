import { describe, expect, it } from 'vitest';
import { defaultsFromSchema, resolveOptions, stripInvalid } from './options.ts';
import type { JsonSchema } from '../lib/plugins.ts';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    metric: { type: 'string', enum: ['invocations', 'cost'], default: 'invocations' },
    top: { type: 'integer', default: 10 },
    compare: { type: 'boolean' },
  },
};

describe('options', () => {
  it('takes defaults from the schema, then from the widget', () => {
    expect(defaultsFromSchema(schema)).toEqual({ metric: 'invocations', top: 10 });
    expect(resolveOptions({}, 1, { optionsVersion: 1, defaults: { top: 5 } }, schema).options).toEqual({ metric: 'invocations', top: 5 });
  });

  it('runs the migration for options saved under an older version', () => {
    const def = {
      optionsVersion: 2,
      migrate: (old: Record<string, unknown>, from: number) => (from < 2 ? { metric: old.kind === 'money' ? 'cost' : 'invocations', top: old.limit } : old),
    };
    const r = resolveOptions({ kind: 'money', limit: 3 }, 1, def, schema);
    expect(r.migrated).toBe(true);
    expect(r.options).toEqual({ metric: 'cost', top: 3 });
  });

  it('does not migrate current options or empty ones', () => {
    const migrate = () => { throw new Error('should not run'); };
    expect(resolveOptions({ top: 2 }, 2, { optionsVersion: 2, migrate }, schema).migrated).toBe(false);
    expect(resolveOptions({}, 1, { optionsVersion: 2, migrate }, schema).migrated).toBe(false);
  });

  it('falls back to defaults when a migration throws, and says why', () => {
    const r = resolveOptions({ top: 2 }, 1, { optionsVersion: 2, migrate: () => { throw new Error('bad data'); } }, schema);
    expect(r.options).toEqual({ metric: 'invocations', top: 10 });
    expect(r.migrationError).toBe('bad data');
  });

  it('drops values the schema no longer allows but keeps unknown keys', () => {
    expect(stripInvalid({ metric: 'latency', top: '3', compare: true, extra: 1 }, schema)).toEqual({ compare: true, extra: 1 });
  });
});

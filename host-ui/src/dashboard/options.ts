/**
 * Widget options: defaults come from one place (the declared JSON schema plus the widget's
 * own `defaults`), and options saved under an older `optionsVersion` go through the
 * widget's `migrate` before the widget sees them.
 */
import type { WidgetDefinition } from '@orrery/plugin-sdk/frontend';
import type { JsonSchema } from '../lib/plugins.ts';

export function defaultsFromSchema(schema: JsonSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema?.properties ?? {})) {
    if (p.default !== undefined) out[k] = p.default;
    else if (p.type === 'object' && p.properties) out[k] = defaultsFromSchema(p);
  }
  return out;
}

export interface ResolvedOptions {
  options: Record<string, unknown>;
  /** true when a migration ran: the host saves the result so it runs once */
  migrated: boolean;
  /** set when the migration threw: the saved options are kept, the widget gets defaults */
  migrationError?: string;
}

export function resolveOptions(
  saved: Record<string, unknown>,
  savedVersion: number,
  def: Pick<WidgetDefinition<any>, 'defaults' | 'migrate' | 'optionsVersion'>,
  schema: JsonSchema | undefined,
): ResolvedOptions {
  const defaults = { ...defaultsFromSchema(schema), ...(def.defaults ?? {}) };
  let opts = saved;
  let migrated = false;
  if (savedVersion < def.optionsVersion && Object.keys(saved).length > 0) {
    if (!def.migrate) return { options: { ...defaults, ...saved }, migrated: false };
    try {
      opts = def.migrate({ ...saved }, savedVersion) as Record<string, unknown>;
      migrated = true;
    } catch (e) {
      return { options: defaults, migrated: false, migrationError: (e as Error).message };
    }
  }
  return { options: { ...defaults, ...stripInvalid(opts, schema) }, migrated };
}

/** Drops saved values the schema no longer allows (e.g. an enum value that was removed). */
export function stripInvalid(opts: Record<string, unknown>, schema: JsonSchema | undefined): Record<string, unknown> {
  if (!schema?.properties) return opts;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) {
    const p = schema.properties[k];
    if (!p) { out[k] = v; continue; } // unknown keys stay: a newer widget may read them
    if (p.enum && !p.enum.includes(v)) continue;
    if ((p.type === 'number' || p.type === 'integer') && typeof v !== 'number') continue;
    if (p.type === 'boolean' && typeof v !== 'boolean') continue;
    if (p.type === 'string' && typeof v !== 'string') continue;
    out[k] = v;
  }
  return out;
}

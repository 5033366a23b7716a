/**
 * Schema versions and upcasting. Each version change is described as data
 * (renamed fields, renamed enum values) so the older version's JSON schema and
 * the upcaster come from the same description and cannot drift apart.
 *
 * v1 → v2 (agent_invocation): `model` became `model_used`, `latency_ms` became
 * `execution_time_ms`, and `status` moved from `ok|error` to `success|failure`
 * to match the PRD vocabulary.
 */
import { CURRENT_SCHEMA_VERSION, EVENT_TYPE_BY_NAME, type EventTypeSpec, type FieldSpec } from './catalog.ts';

interface VersionChange {
  /** new name → old name */
  renames?: Record<string, string>;
  /** field → (old value → new value) */
  values?: Record<string, Record<string, string>>;
}

/** Changes going from version N to N+1, per event type (key: N). */
const CHANGES: Record<number, Record<string, VersionChange>> = {
  1: {
    agent_invocation: {
      renames: { model_used: 'model', execution_time_ms: 'latency_ms' },
      values: { status: { ok: 'success', error: 'failure' } },
    },
  },
};

/** The spec of a type as it looked at `version` (derived by undoing later changes). */
export function specAtVersion(spec: EventTypeSpec, version: number): EventTypeSpec {
  let out = spec;
  for (let v = CURRENT_SCHEMA_VERSION - 1; v >= version; v--) {
    const change = CHANGES[v]?.[spec.type];
    if (change) out = downgradeSpec(out, change);
  }
  return out;
}

function downgradeSpec(spec: EventTypeSpec, change: VersionChange): EventTypeSpec {
  const renames = change.renames ?? {};
  const fields: Record<string, FieldSpec> = {};
  for (const [name, f] of Object.entries(spec.fields)) {
    const oldName = renames[name] ?? name;
    const valueMap = change.values?.[name];
    if (valueMap && f.values) {
      const back = Object.fromEntries(Object.entries(valueMap).map(([o, n]) => [n, o]));
      fields[oldName] = { ...f, values: f.values.map((v) => back[v] ?? v) };
    } else {
      fields[oldName] = f;
    }
  }
  const rename = (n: string) => renames[n] ?? n;
  return {
    ...spec,
    fields,
    required: spec.required.map(rename),
    requiredByAction: spec.requiredByAction
      ? Object.fromEntries(Object.entries(spec.requiredByAction).map(([a, r]) => [a, r.map(rename)]))
      : undefined,
  };
}

/**
 * Upcasts a (valid) event of `fromVersion` to the current version, in place.
 * Returns the notes of what changed, recorded on the row next to the fixes.
 */
export function upcast(event: Record<string, unknown>, fromVersion: number): string[] {
  const notes: string[] = [];
  const type = String(event.event_type);
  for (let v = fromVersion; v < CURRENT_SCHEMA_VERSION; v++) {
    const change = CHANGES[v]?.[type];
    if (!change) continue;
    for (const [newName, oldName] of Object.entries(change.renames ?? {})) {
      if (oldName in event) {
        event[newName] = event[oldName];
        delete event[oldName];
        notes.push(`${newName}:upcast_from_v${v}_${oldName}`);
      }
    }
    for (const [field, map] of Object.entries(change.values ?? {})) {
      const val = event[field];
      if (typeof val === 'string' && map[val] !== undefined) {
        event[field] = map[val];
        notes.push(`${field}:upcast_from_v${v}_value`);
      }
    }
  }
  event.schema_version = CURRENT_SCHEMA_VERSION;
  return notes;
}

export function specFor(type: string, version: number): EventTypeSpec | undefined {
  const spec = EVENT_TYPE_BY_NAME.get(type);
  return spec && specAtVersion(spec, version);
}

/**
 * Builds strict JSON schemas (draft 7, OpenAPI-compatible) from the catalogue.
 * One schema per (event type, version); `additionalProperties: false`
 * everywhere, so there is no room for free-form fields.
 */
import type { JsonSchema } from '@orrery/plugin-sdk';
import { EVENT_TYPES, LIMITS, SUPPORTED_SCHEMA_VERSIONS, fieldsOf, type EventTypeSpec, type FieldSpec } from './catalog.ts';
import { specAtVersion } from './versions.ts';

export function fieldSchema(f: FieldSpec): JsonSchema {
  const s: Record<string, unknown> = {};
  switch (f.kind) {
    case 'id': Object.assign(s, { type: 'string', minLength: 1, maxLength: LIMITS.id }); break;
    case 'label': Object.assign(s, { type: 'string', maxLength: LIMITS.label }); break;
    case 'text': Object.assign(s, { type: 'string', maxLength: LIMITS.text }); break;
    case 'count': Object.assign(s, { type: 'integer', minimum: f.min ?? 0, maximum: f.max ?? Number.MAX_SAFE_INTEGER }); break;
    case 'int': Object.assign(s, { type: 'integer', minimum: f.min ?? -Number.MAX_SAFE_INTEGER, maximum: f.max ?? Number.MAX_SAFE_INTEGER }); break;
    case 'amount': Object.assign(s, { type: 'number', minimum: f.min ?? 0, ...(f.max !== undefined ? { maximum: f.max } : {}) }); break;
    case 'number': Object.assign(s, { type: 'number' }); break;
    case 'enum': Object.assign(s, { type: 'string', enum: [...(f.values ?? [])] }); break;
    case 'timestamp': Object.assign(s, { type: 'string', format: 'date-time' }); break;
    case 'labels': Object.assign(s, { type: 'array', maxItems: LIMITS.labels, items: { type: 'string', maxLength: LIMITS.label } }); break;
    case 'payload': Object.assign(s, { type: ['string', 'object', 'array'] }); break;
  }
  if (f.description) s.description = f.description;
  return s;
}

export function eventSchema(spec: EventTypeSpec, version: number): JsonSchema {
  const at = specAtVersion(spec, version);
  const fields = fieldsOf(at);
  const properties: Record<string, JsonSchema> = {};
  for (const [name, f] of Object.entries(fields)) properties[name] = fieldSchema(f);
  properties.event_type = { type: 'string', const: spec.type };
  const schema: Record<string, unknown> = {
    $id: `orrery:event:${spec.type}:v${version}`,
    title: `${spec.type} (v${version})`,
    description: at.description,
    type: 'object',
    additionalProperties: false,
    required: [...at.required],
    properties,
  };
  if (at.requiredByAction) {
    schema.allOf = Object.entries(at.requiredByAction).map(([action, req]) => ({
      if: { properties: { action: { const: action } }, required: ['action'] },
      then: { required: [...req] },
    }));
  }
  return schema;
}

/** Every schema, keyed `type` → version → schema; served at GET /api/v1/events/schemas. */
export function allEventSchemas(): Record<string, Record<string, JsonSchema>> {
  const out: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of EVENT_TYPES) {
    out[spec.type] = {};
    for (const v of SUPPORTED_SCHEMA_VERSIONS) out[spec.type][`v${v}`] = eventSchema(spec, v);
  }
  return out;
}

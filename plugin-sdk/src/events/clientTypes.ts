/**
 * Renders the client's event types (`plugin-sdk/src/client/events.ts`) from the catalogue,
 * so the types agent hosts compile against say exactly what the server validates.
 * `scripts/gen-client-events.ts` writes the file; `client/events.test.ts` fails when the
 * file and the catalogue drift apart. No node imports: the client half uses this module's output only.
 */
import { ENVELOPE, EVENT_TYPES, type EventTypeSpec, type FieldSpec } from './catalog.ts';

/** Envelope fields the client does not send: the type is per event, the org comes from the token, the version from a header. */
const NOT_SENT = new Set(['event_type', 'org_id', 'schema_version']);
/** Filled in by the client when omitted. */
const CLIENT_FILLED: Record<string, string> = {
  event_id: 'idempotency key; assigned by the client when omitted and kept across resends',
  timestamp: 'ISO 8601 with zone; defaults to now',
};
const ENVELOPE_REQUIRED = new Set(['user_id']);

const pascal = (s: string) => s.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
export const interfaceName = (spec: EventTypeSpec) => `${pascal(spec.type)}Event`;

function tsType(f: FieldSpec): string {
  switch (f.kind) {
    case 'enum':
      return (f.values ?? []).map((v) => `'${v}'`).join(' | ');
    case 'count':
    case 'int':
    case 'amount':
    case 'number':
      return 'number';
    case 'labels':
      return 'string[]';
    case 'payload':
      return 'Payload';
    default:
      return 'string';
  }
}

function doc(f: FieldSpec, extra: string[] = []): string | null {
  const parts: string[] = [];
  if (f.min !== undefined || f.max !== undefined) parts.push(`${f.min ?? 0}..${f.max ?? '∞'}`);
  if (f.description) parts.push(f.description);
  parts.push(...extra);
  return parts.length ? `/** ${parts.join('; ')} */` : null;
}

function field(name: string, f: FieldSpec, optional: boolean, extra: string[] = []): string[] {
  const d = doc(f, extra);
  return [...(d ? [`  ${d}`] : []), `  ${name}${optional ? '?' : ''}: ${tsType(f)};`];
}

function eventInterface(spec: EventTypeSpec): string {
  const required = new Set(spec.required);
  const byAction = new Map<string, string[]>();
  for (const [action, fields] of Object.entries(spec.requiredByAction ?? {})) for (const f of fields) byAction.set(f, [...(byAction.get(f) ?? []), action]);
  const whenAction = (name: string) => (byAction.has(name) ? [`required when action is ${byAction.get(name)!.join(' or ')}`] : []);
  const dropsUser = !required.has('user_id');
  const lines = [`/** ${spec.description} */`, `export interface ${interfaceName(spec)} extends ${dropsUser ? "Omit<Envelope, 'user_id'>" : 'Envelope'} {`, `  event_type: '${spec.type}';`];
  if (dropsUser) lines.push(...field('user_id', ENVELOPE.user_id!, true));
  // envelope fields this type requires although the envelope does not
  for (const name of spec.required) {
    if (name in ENVELOPE && !NOT_SENT.has(name) && !(name in CLIENT_FILLED) && !ENVELOPE_REQUIRED.has(name) && !(name in spec.fields)) lines.push(...field(name, ENVELOPE[name]!, false));
  }
  if (spec.actions) lines.push(...field('action', { kind: 'enum', values: spec.actions }, !required.has('action')));
  for (const [name, f] of Object.entries(spec.fields)) lines.push(...field(name, f, !required.has(name), whenAction(name)));
  lines.push('}');
  return lines.join('\n');
}

function envelope(): string {
  const lines = ['export interface Envelope {'];
  for (const [name, f] of Object.entries(ENVELOPE)) {
    if (NOT_SENT.has(name)) continue;
    if (name in CLIENT_FILLED) lines.push(`  /** ${CLIENT_FILLED[name]} */`, `  ${name}?: string;`);
    else lines.push(...field(name, f, !ENVELOPE_REQUIRED.has(name)));
  }
  lines.push('}');
  return lines.join('\n');
}

/** The whole text of client/events.ts. */
export function renderClientEventTypes(): string {
  return [
    '// Generated from plugin-sdk/src/events/catalog.ts by `npx tsx scripts/gen-client-events.ts`: do not edit.',
    '// client/events.test.ts fails when this file and the catalogue drift apart.',
    '',
    '/**',
    ' * Typed events for agent hosts. These mirror the server\'s strict schemas',
    ' * (GET /api/v1/events/schemas): every field is listed, and the server refuses anything',
    ' * else. `event_id` and `timestamp` are filled in by the client when omitted.',
    ' */',
    '',
    envelope(),
    '',
    'type Payload = string | Record<string, unknown> | unknown[];',
    '',
    ...EVENT_TYPES.flatMap((t) => [eventInterface(t), '']),
    'export type OrreryEvent =',
    ...EVENT_TYPES.map((t, i) => `  | ${interfaceName(t)}${i === EVENT_TYPES.length - 1 ? ';' : ''}`),
    '',
    '/** An event as queued and sent: id and time fixed. */',
    'export type QueuedEvent = OrreryEvent & { event_id: string; timestamp: string };',
    '',
  ].join('\n');
}

/**
 * The event catalogue: every event type, its fields and their kinds, in one
 * declarative table. The JSON schemas (validation + OpenAPI), the auto-fixes
 * and the ClickHouse row mapping are all derived from it, so adding a field is
 * one line here plus a column in core/src/ingestion/migrations/0001_events.ts. It is part of the
 * plugin contract (`@orrery/plugin-sdk` re-exports it) so plugins check fields against it.
 *
 * There are deliberately no free-form properties: every field an event may
 * carry is listed, and anything else is a validation error.
 */

export type FieldKind =
  /** opaque identifier, 1..128 chars */
  | 'id'
  /** short label (names, versions), ≤ 256 chars */
  | 'label'
  /** longer text (error messages, comments), ≤ 8 KiB */
  | 'text'
  /** non-negative integer (tokens, counts) */
  | 'count'
  /** signed integer */
  | 'int'
  /** non-negative number (durations, costs) */
  | 'amount'
  /** any finite number */
  | 'number'
  | 'enum'
  /** ISO-8601 instant with a zone */
  | 'timestamp'
  /** array of labels */
  | 'labels'
  /** input/output payload: a string or JSON value, stored as a string, subject to privacy settings */
  | 'payload';

export interface FieldSpec {
  kind: FieldKind;
  values?: readonly string[];
  min?: number;
  max?: number;
  description?: string;
}

export interface EventTypeSpec {
  type: string;
  description: string;
  /** allowed `action` values; types without sub-kinds have none */
  actions?: readonly string[];
  fields: Record<string, FieldSpec>;
  required: readonly string[];
  /** fields required only for some actions */
  requiredByAction?: Record<string, readonly string[]>;
}

/** The schema version events are stored at. Older versions are upcast (see upcast.ts). */
export const CURRENT_SCHEMA_VERSION = 2;
export const SUPPORTED_SCHEMA_VERSIONS = [1, 2] as const;

const STATUS = ['success', 'failure'] as const;

/** Fields every event carries. `org_id` is optional: it is taken from the hook token. */
export const ENVELOPE: Record<string, FieldSpec> = {
  event_id: { kind: 'id', description: 'Unique per org; the idempotency key (a resend with the same id is a duplicate).' },
  event_type: { kind: 'enum', values: [] /* filled below */ },
  timestamp: { kind: 'timestamp', description: 'When it happened (ISO 8601 with zone).' },
  org_id: { kind: 'id', description: 'Optional; must name the org of the token when given.' },
  department_id: { kind: 'id' },
  user_id: { kind: 'id' },
  session_id: { kind: 'id' },
  correlation_id: { kind: 'id' },
  trace_id: { kind: 'id' },
  schema_version: { kind: 'count', min: 1, max: CURRENT_SCHEMA_VERSION },
};

const ENVELOPE_REQUIRED = ['event_id', 'event_type', 'timestamp', 'user_id'] as const;

export const EVENT_TYPES: readonly EventTypeSpec[] = [
  {
    type: 'agent_invocation',
    description: 'One call of an agent: model, tokens, latency, outcome, tools used.',
    fields: {
      agent_name: { kind: 'label' },
      agent_version: { kind: 'label' },
      invocation_id: { kind: 'id' },
      parent_invocation_id: { kind: 'id' },
      model_used: { kind: 'label' },
      prompt_template_version: { kind: 'label' },
      output_tokens: { kind: 'count' },
      input_tokens: { kind: 'count', description: 'All input tokens, cached ones included (GenAI semantic conventions).' },
      cached_input_tokens: { kind: 'count', description: 'The part of input_tokens served from the prompt cache (priced separately).' },
      execution_time_ms: { kind: 'amount' },
      status: { kind: 'enum', values: STATUS },
      error_type: { kind: 'label' },
      error_message: { kind: 'text' },
      tools_used: { kind: 'labels' },
      cost_usd: { kind: 'amount', description: 'When absent, computed from the model price table.' },
      input_payload: { kind: 'payload' },
      output_payload: { kind: 'payload' },
    },
    // The PRD's required fields of an agent invocation (15 with the envelope's).
    required: [
      ...ENVELOPE_REQUIRED, 'department_id', 'session_id', 'agent_name', 'agent_version', 'invocation_id',
      'model_used', 'input_tokens', 'output_tokens', 'execution_time_ms', 'status',
    ],
  },
  {
    type: 'tool_call',
    description: 'A tool an agent called (or a tool permission decision).',
    actions: ['result', 'decision'],
    fields: {
      tool_name: { kind: 'label' },
      agent_name: { kind: 'label' },
      invocation_id: { kind: 'id', description: 'The invocation that called the tool.' },
      status: { kind: 'enum', values: STATUS },
      duration_ms: { kind: 'amount' },
      decision: { kind: 'enum', values: ['accept', 'reject'] },
      decision_source: { kind: 'label', description: 'config, user_permanent, user_temporary, user_abort, user_reject…' },
      error_type: { kind: 'label' },
      error_message: { kind: 'text' },
      lines_changed: { kind: 'int' },
      input_payload: { kind: 'payload' },
      output_payload: { kind: 'payload' },
    },
    required: [...ENVELOPE_REQUIRED, 'tool_name'],
    requiredByAction: { result: ['status'], decision: ['decision'] },
  },
  {
    type: 'command',
    description: 'A slash command a user ran.',
    fields: {
      command_name: { kind: 'label' },
      agent_name: { kind: 'label' },
      status: { kind: 'enum', values: STATUS },
      duration_ms: { kind: 'amount' },
      error_type: { kind: 'label' },
    },
    required: [...ENVELOPE_REQUIRED, 'command_name'],
  },
  {
    type: 'workflow_step',
    description: 'Progress through a defined workflow (funnels).',
    actions: ['enrolled', 'step_entered', 'step_completed', 'goal_reached', 'exited'],
    fields: {
      workflow_id: { kind: 'label' },
      workflow_step: { kind: 'label' },
      step_index: { kind: 'count', max: 65535 },
      agent_name: { kind: 'label' },
      duration_ms: { kind: 'amount' },
      reason: { kind: 'label', description: 'Why the user exited.' },
    },
    required: [...ENVELOPE_REQUIRED, 'action', 'workflow_id'],
    requiredByAction: { step_entered: ['workflow_step'], step_completed: ['workflow_step'] },
  },
  {
    type: 'session',
    description: 'A working session with an agent host.',
    actions: ['started', 'ended', 'heartbeat'],
    fields: {
      agent_name: { kind: 'label' },
      surface: { kind: 'label', description: 'ide, cli, web, chat…' },
      duration_ms: { kind: 'amount' },
    },
    required: [...ENVELOPE_REQUIRED, 'action', 'session_id'],
    requiredByAction: { ended: ['duration_ms'] },
  },
  {
    type: 'feature_use',
    description: 'Use of a product feature.',
    fields: {
      feature_name: { kind: 'label' },
      agent_name: { kind: 'label' },
      surface: { kind: 'label' },
      duration_ms: { kind: 'amount' },
    },
    required: [...ENVELOPE_REQUIRED, 'feature_name'],
  },
  {
    type: 'knowledge_artifact',
    description: 'A prompt, snippet or document created, annotated or reused.',
    actions: ['created', 'annotated', 'reused'],
    fields: {
      artifact_id: { kind: 'id' },
      artifact_type: { kind: 'label' },
      agent_name: { kind: 'label' },
    },
    required: [...ENVELOPE_REQUIRED, 'action', 'artifact_id'],
  },
  {
    type: 'feedback',
    description: 'A rating of, or accept/reject decision on, an agent output.',
    actions: ['rating', 'accept', 'reject'],
    fields: {
      invocation_id: { kind: 'id' },
      agent_name: { kind: 'label' },
      rating: { kind: 'int', min: 1, max: 5 },
      comment: { kind: 'text' },
    },
    required: [...ENVELOPE_REQUIRED, 'action'],
    requiredByAction: { rating: ['rating'] },
  },
  {
    type: 'intervention',
    description: 'An adoption intervention (tip, training nudge) shown to or followed by a user.',
    actions: ['shown', 'followed', 'dismissed'],
    fields: {
      intervention_id: { kind: 'id' },
      intervention_type: { kind: 'label' },
      surface: { kind: 'label' },
    },
    required: [...ENVELOPE_REQUIRED, 'action', 'intervention_id'],
  },
  {
    type: 'system_metric',
    description: 'A numeric measurement (usage counters from OTLP metrics, host metrics).',
    fields: {
      metric_name: { kind: 'label' },
      metric_value: { kind: 'number' },
      metric_unit: { kind: 'label' },
      agent_name: { kind: 'label' },
      model_used: { kind: 'label' },
      input_tokens: { kind: 'count' },
      output_tokens: { kind: 'count' },
      cached_input_tokens: { kind: 'count' },
      cost_usd: { kind: 'amount' },
      lines_changed: { kind: 'int' },
    },
    // user_id is optional: a host metric has no user
    required: ['event_id', 'event_type', 'timestamp', 'metric_name', 'metric_value'],
  },
];

(ENVELOPE.event_type as unknown as { values: string[] }).values = EVENT_TYPES.map((t) => t.type);

export const EVENT_TYPE_BY_NAME: ReadonlyMap<string, EventTypeSpec> = new Map(EVENT_TYPES.map((t) => [t.type, t]));

/** All fields of a type (envelope + own + action), in a stable order. */
export function fieldsOf(spec: EventTypeSpec): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = { ...ENVELOPE };
  if (spec.actions) out.action = { kind: 'enum', values: spec.actions };
  Object.assign(out, spec.fields);
  return out;
}

/** Limits used by the schema and the fixes. */
export const LIMITS = {
  id: 128,
  label: 256,
  text: 8192,
  labels: 256,
  /** bytes of one payload once serialized */
  payload: 256 * 1024,
} as const;

// Generated from plugin-sdk/src/events/catalog.ts by `npx tsx scripts/gen-client-events.ts`: do not edit.
// client/events.test.ts fails when this file and the catalogue drift apart.

/**
 * Typed events for agent hosts. These mirror the server's strict schemas
 * (GET /api/v1/events/schemas): every field is listed, and the server refuses anything
 * else. `event_id` and `timestamp` are filled in by the client when omitted.
 */

export interface Envelope {
  /** idempotency key; assigned by the client when omitted and kept across resends */
  event_id?: string;
  /** ISO 8601 with zone; defaults to now */
  timestamp?: string;
  department_id?: string;
  user_id: string;
  session_id?: string;
  correlation_id?: string;
  trace_id?: string;
}

type Payload = string | Record<string, unknown> | unknown[];

/** One call of an agent: model, tokens, latency, outcome, tools used. */
export interface AgentInvocationEvent extends Envelope {
  event_type: 'agent_invocation';
  department_id: string;
  session_id: string;
  agent_name: string;
  agent_version: string;
  invocation_id: string;
  parent_invocation_id?: string;
  model_used: string;
  prompt_template_version?: string;
  output_tokens: number;
  /** All input tokens, cached ones included (GenAI semantic conventions). */
  input_tokens: number;
  /** The part of input_tokens served from the prompt cache (priced separately). */
  cached_input_tokens?: number;
  execution_time_ms: number;
  status: 'success' | 'failure';
  error_type?: string;
  error_message?: string;
  tools_used?: string[];
  /** When absent, computed from the model price table. */
  cost_usd?: number;
  input_payload?: Payload;
  output_payload?: Payload;
}

/** A tool an agent called (or a tool permission decision). */
export interface ToolCallEvent extends Envelope {
  event_type: 'tool_call';
  action?: 'result' | 'decision';
  tool_name: string;
  agent_name?: string;
  /** The invocation that called the tool. */
  invocation_id?: string;
  /** required when action is result */
  status?: 'success' | 'failure';
  duration_ms?: number;
  /** required when action is decision */
  decision?: 'accept' | 'reject';
  /** config, user_permanent, user_temporary, user_abort, user_reject… */
  decision_source?: string;
  error_type?: string;
  error_message?: string;
  lines_changed?: number;
  input_payload?: Payload;
  output_payload?: Payload;
}

/** A slash command a user ran. */
export interface CommandEvent extends Envelope {
  event_type: 'command';
  command_name: string;
  agent_name?: string;
  status?: 'success' | 'failure';
  duration_ms?: number;
  error_type?: string;
}

/** Progress through a defined workflow (funnels). */
export interface WorkflowStepEvent extends Envelope {
  event_type: 'workflow_step';
  action: 'enrolled' | 'step_entered' | 'step_completed' | 'goal_reached' | 'exited';
  workflow_id: string;
  /** required when action is step_entered or step_completed */
  workflow_step?: string;
  /** 0..65535 */
  step_index?: number;
  agent_name?: string;
  duration_ms?: number;
  /** Why the user exited. */
  reason?: string;
}

/** A working session with an agent host. */
export interface SessionEvent extends Envelope {
  event_type: 'session';
  session_id: string;
  action: 'started' | 'ended' | 'heartbeat';
  agent_name?: string;
  /** ide, cli, web, chat… */
  surface?: string;
  /** required when action is ended */
  duration_ms?: number;
}

/** Use of a product feature. */
export interface FeatureUseEvent extends Envelope {
  event_type: 'feature_use';
  feature_name: string;
  agent_name?: string;
  surface?: string;
  duration_ms?: number;
}

/** A prompt, snippet or document created, annotated or reused. */
export interface KnowledgeArtifactEvent extends Envelope {
  event_type: 'knowledge_artifact';
  action: 'created' | 'annotated' | 'reused';
  artifact_id: string;
  artifact_type?: string;
  agent_name?: string;
}

/** A rating of, or accept/reject decision on, an agent output. */
export interface FeedbackEvent extends Envelope {
  event_type: 'feedback';
  action: 'rating' | 'accept' | 'reject';
  invocation_id?: string;
  agent_name?: string;
  /** 1..5; required when action is rating */
  rating?: number;
  comment?: string;
}

/** An adoption intervention (tip, training nudge) shown to or followed by a user. */
export interface InterventionEvent extends Envelope {
  event_type: 'intervention';
  action: 'shown' | 'followed' | 'dismissed';
  intervention_id: string;
  intervention_type?: string;
  surface?: string;
}

/** A numeric measurement (usage counters from OTLP metrics, host metrics). */
export interface SystemMetricEvent extends Omit<Envelope, 'user_id'> {
  event_type: 'system_metric';
  user_id?: string;
  metric_name: string;
  metric_value: number;
  metric_unit?: string;
  agent_name?: string;
  model_used?: string;
  input_tokens?: number;
  output_tokens?: number;
  cached_input_tokens?: number;
  cost_usd?: number;
  lines_changed?: number;
}

export type OrreryEvent =
  | AgentInvocationEvent
  | ToolCallEvent
  | CommandEvent
  | WorkflowStepEvent
  | SessionEvent
  | FeatureUseEvent
  | KnowledgeArtifactEvent
  | FeedbackEvent
  | InterventionEvent
  | SystemMetricEvent;

/** An event as queued and sent: id and time fixed. */
export type QueuedEvent = OrreryEvent & { event_id: string; timestamp: string };

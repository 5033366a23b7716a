/**
 * Typed events for agent hosts. These mirror the server's strict schemas
 * (GET /api/v1/events/schemas, current version 2): every field is listed, and
 * the server refuses anything else. `event_id` and `timestamp` are filled in
 * by the client when omitted.
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

type Status = 'success' | 'failure';
type Payload = string | Record<string, unknown> | unknown[];

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
  /** all input tokens, cached ones included */
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  execution_time_ms: number;
  status: Status;
  error_type?: string;
  error_message?: string;
  tools_used?: string[];
  /** computed by the server from its price table when omitted */
  cost_usd?: number;
  input_payload?: Payload;
  output_payload?: Payload;
}

export interface ToolCallEvent extends Envelope {
  event_type: 'tool_call';
  action?: 'result' | 'decision';
  tool_name: string;
  agent_name?: string;
  invocation_id?: string;
  status?: Status;
  duration_ms?: number;
  decision?: 'accept' | 'reject';
  decision_source?: string;
  error_type?: string;
  error_message?: string;
  lines_changed?: number;
  input_payload?: Payload;
  output_payload?: Payload;
}

export interface CommandEvent extends Envelope {
  event_type: 'command';
  command_name: string;
  agent_name?: string;
  status?: Status;
  duration_ms?: number;
  error_type?: string;
}

export interface WorkflowStepEvent extends Envelope {
  event_type: 'workflow_step';
  action: 'enrolled' | 'step_entered' | 'step_completed' | 'goal_reached' | 'exited';
  workflow_id: string;
  workflow_step?: string;
  step_index?: number;
  agent_name?: string;
  duration_ms?: number;
  reason?: string;
}

export interface SessionEvent extends Envelope {
  event_type: 'session';
  action: 'started' | 'ended' | 'heartbeat';
  session_id: string;
  agent_name?: string;
  surface?: string;
  duration_ms?: number;
}

export interface FeatureUseEvent extends Envelope {
  event_type: 'feature_use';
  feature_name: string;
  agent_name?: string;
  surface?: string;
  duration_ms?: number;
}

export interface KnowledgeArtifactEvent extends Envelope {
  event_type: 'knowledge_artifact';
  action: 'created' | 'annotated' | 'reused';
  artifact_id: string;
  artifact_type?: string;
  agent_name?: string;
}

export interface FeedbackEvent extends Envelope {
  event_type: 'feedback';
  action: 'rating' | 'accept' | 'reject';
  invocation_id?: string;
  agent_name?: string;
  /** 1..5, required for `rating` */
  rating?: number;
  comment?: string;
}

export interface InterventionEvent extends Envelope {
  event_type: 'intervention';
  action: 'shown' | 'followed' | 'dismissed';
  intervention_id: string;
  intervention_type?: string;
  surface?: string;
}

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

/**
 * OTLP → Orrery events. Input is the OTLP/JSON shape (protobuf is decoded into
 * it first). Output is plain events of the current schema version, which then
 * go through the same pipeline as REST events — so an OTLP span that lacks a
 * required field is quarantined with reasons, not dropped.
 *
 * Traces: spans following the GenAI semantic conventions become
 * `agent_invocation` (model calls, agent invocations) or `tool_call`
 * (`execute_tool`), linked by span ids: `invocation_id` = span id,
 * `parent_invocation_id` = parent span id, and a tool call's `invocation_id`
 * is its parent span (the invocation that ran it). `tools_used` of an
 * invocation is filled from tool spans that arrive in the same export (the
 * batch span processor sends a trace together); across exports the link is
 * still there through the span ids.
 *
 * Metrics: every data point becomes a `system_metric`; token, cost and
 * lines-of-code metrics of AI coding assistants (claude_code.*, gen_ai.client.*)
 * also fill the typed columns (tokens, model, lines_changed).
 *
 * Logs: AI coding assistant events (api_request, api_error, tool_result,
 * tool_decision, user_prompt) map to invocations, tool calls and feature use.
 *
 * Event ids are derived from the telemetry (trace + span id, or a hash of the
 * record), so an exporter's retry is recognised as a duplicate.
 */
import { createHash } from 'node:crypto';

export interface OtlpAttributeConfig {
  userAttributes: string[];
  departmentAttributes: string[];
  sessionAttributes: string[];
}

export const DEFAULT_OTLP_ATTRIBUTES: OtlpAttributeConfig = {
  userAttributes: ['user.id', 'enduser.id', 'user.email', 'user.name'],
  departmentAttributes: ['department.id', 'orrery.department_id', 'user.department'],
  sessionAttributes: ['session.id', 'gen_ai.conversation.id'],
};

export interface Mapped {
  events: Record<string, unknown>[];
  /** per event: what the mapping filled in or derived (recorded in `fixes`) */
  fixes: string[][];
  /** records that are not ours to map (counted as rejected in partialSuccess) */
  unmapped: number;
  unmappedNames: Set<string>;
  /** telemetry records seen (spans, points, log records) */
  seen: number;
}

type Attrs = Record<string, unknown>;
interface KV { key: string; value?: AnyValue }
interface AnyValue { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: AnyValue[] }; kvlistValue?: { values?: KV[] }; bytesValue?: unknown }

function anyValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return attrs(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return typeof v.bytesValue === 'string' ? v.bytesValue : Buffer.from(v.bytesValue as Uint8Array).toString('base64');
  return undefined;
}

export function attrs(list: KV[] | undefined): Attrs {
  const out: Attrs = {};
  for (const kv of list ?? []) if (kv && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
  return out;
}

const nanosToMs = (v: unknown): number => {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') return 0;
  try {
    return Number(BigInt(String(v).split('.')[0]!) / 1_000_000n);
  } catch {
    return Math.floor(Number(v) / 1e6);
  }
};

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v : String(v));
const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
};
const first = (names: string[], ...sources: Attrs[]): string | undefined => {
  for (const s of sources) for (const n of names) if (str(s[n])) return str(s[n]);
  return undefined;
};
const payload = (v: unknown): string | undefined => (v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
const hashId = (prefix: string, ...parts: unknown[]) => `${prefix}-${createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;

/** Removes undefined values (the strict schema treats absent and undefined alike, JSON does not carry them). */
function clean(e: Record<string, unknown>) {
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return e;
}

function who(cfg: OtlpAttributeConfig, a: Attrs, res: Attrs) {
  return {
    user_id: first(cfg.userAttributes, a, res),
    department_id: first(cfg.departmentAttributes, a, res),
    session_id: first(cfg.sessionAttributes, a, res),
  };
}

const GENAI_OPS = new Set(['chat', 'text_completion', 'generate_content', 'invoke_agent', 'create_agent', 'embeddings', 'completion']);

// ---------------------------------------------------------------- traces ----

interface Span {
  traceId?: string; spanId?: string; parentSpanId?: string; name?: string;
  startTimeUnixNano?: string | number; endTimeUnixNano?: string | number;
  attributes?: KV[]; status?: { code?: number | string; message?: string };
}

export function mapTraces(req: Record<string, unknown>, cfg: OtlpAttributeConfig): Mapped {
  const out: Mapped = { events: [], fixes: [], unmapped: 0, unmappedNames: new Set(), seen: 0 };
  const toolsByParent = new Map<string, string[]>();
  const invocations: Array<{ e: Record<string, unknown>; spanId: string }> = [];
  for (const rs of (req.resourceSpans as Array<{ resource?: { attributes?: KV[] }; scopeSpans?: Array<{ spans?: Span[] }> }>) ?? []) {
    const res = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        out.seen++;
        const a = attrs(span.attributes);
        const op = str(a['gen_ai.operation.name']);
        const tool = str(a['gen_ai.tool.name']);
        const genai = op !== undefined || a['gen_ai.request.model'] !== undefined || a['gen_ai.system'] !== undefined || a['gen_ai.provider.name'] !== undefined;
        if (!genai && !tool) {
          out.unmapped++;
          out.unmappedNames.add(span.name ?? '(unnamed span)');
          continue;
        }
        const traceId = str(span.traceId) ?? '';
        const spanId = str(span.spanId) ?? '';
        const parent = str(span.parentSpanId);
        const start = nanosToMs(span.startTimeUnixNano);
        const end = nanosToMs(span.endTimeUnixNano);
        const failed = span.status?.code === 2 || span.status?.code === 'STATUS_CODE_ERROR';
        const w = who(cfg, a, res);
        const fixes: string[] = [];
        const base = {
          event_id: `otlp-${traceId}-${spanId}`,
          timestamp: new Date(start || Date.now()).toISOString(),
          trace_id: traceId || undefined,
          user_id: w.user_id,
          department_id: w.department_id,
          session_id: w.session_id,
          correlation_id: str(a['gen_ai.conversation.id']),
        };
        if (op === 'execute_tool' || (tool && !(op && GENAI_OPS.has(op)))) {
          const e = clean({
            ...base,
            event_type: 'tool_call',
            action: 'result',
            tool_name: tool ?? span.name ?? 'unknown',
            agent_name: str(a['gen_ai.agent.name']) ?? str(res['service.name']),
            invocation_id: parent,
            status: failed ? 'failure' : 'success',
            duration_ms: Math.max(0, end - start),
            error_type: failed ? str(a['error.type']) ?? 'error' : undefined,
            error_message: failed ? str(span.status?.message) : undefined,
            input_payload: payload(a['gen_ai.tool.call.arguments']),
            output_payload: payload(a['gen_ai.tool.call.result']),
          });
          if (parent) {
            const l = toolsByParent.get(parent) ?? [];
            l.push(e.tool_name as string);
            toolsByParent.set(parent, l);
          }
          out.events.push(e);
          out.fixes.push(['source:otlp_span']);
          continue;
        }
        const agentName = str(a['gen_ai.agent.name']) ?? str(res['service.name']);
        const agentVersion = str(a['gen_ai.agent.version']) ?? str(res['service.version']);
        const model = str(a['gen_ai.response.model']) ?? str(a['gen_ai.request.model']);
        if (!agentVersion) fixes.push('agent_version:default_unknown');
        if (!model) fixes.push('model_used:default_unknown');
        if (!w.department_id) fixes.push('department_id:default_unassigned');
        if (!w.session_id && traceId) fixes.push('session_id:from_trace_id');
        const e = clean({
          ...base,
          event_type: 'agent_invocation',
          department_id: w.department_id ?? 'unassigned',
          session_id: w.session_id ?? (traceId || undefined),
          agent_name: agentName,
          agent_version: agentVersion ?? 'unknown',
          invocation_id: spanId || undefined,
          parent_invocation_id: parent,
          model_used: model ?? 'unknown',
          prompt_template_version: str(a['gen_ai.prompt.template.version']),
          input_tokens: num(a['gen_ai.usage.input_tokens']) ?? num(a['gen_ai.usage.prompt_tokens']) ?? 0,
          output_tokens: num(a['gen_ai.usage.output_tokens']) ?? num(a['gen_ai.usage.completion_tokens']) ?? 0,
          cached_input_tokens: num(a['gen_ai.usage.cache_read.input_tokens']) ?? num(a['gen_ai.usage.cache_read_input_tokens']),
          execution_time_ms: Math.max(0, end - start),
          status: failed ? 'failure' : 'success',
          error_type: failed ? str(a['error.type']) ?? 'error' : undefined,
          error_message: failed ? str(span.status?.message) : undefined,
          cost_usd: num(a['gen_ai.usage.cost']) ?? num(a['gen_ai.usage.cost_usd']),
          input_payload: payload(a['gen_ai.input.messages'] ?? a['gen_ai.prompt']),
          output_payload: payload(a['gen_ai.output.messages'] ?? a['gen_ai.completion']),
        });
        invocations.push({ e, spanId });
        out.events.push(e);
        out.fixes.push(['source:otlp_span', ...fixes]);
      }
    }
  }
  // a tool span's parent is the invocation that used it (children may arrive in the same export)
  for (const { e, spanId } of invocations) {
    const tools = toolsByParent.get(spanId);
    if (tools) e.tools_used = [...new Set(tools)];
  }
  return out;
}

// --------------------------------------------------------------- metrics ----

interface NumberPoint { attributes?: KV[]; timeUnixNano?: string | number; asDouble?: number; asInt?: string | number; sum?: number; count?: string | number }

export function mapMetrics(req: Record<string, unknown>, cfg: OtlpAttributeConfig): Mapped {
  const out: Mapped = { events: [], fixes: [], unmapped: 0, unmappedNames: new Set(), seen: 0 };
  type M = { name?: string; unit?: string; gauge?: { dataPoints?: NumberPoint[] }; sum?: { dataPoints?: NumberPoint[] }; histogram?: { dataPoints?: NumberPoint[] }; exponentialHistogram?: { dataPoints?: NumberPoint[] }; summary?: { dataPoints?: NumberPoint[] } };
  for (const rm of (req.resourceMetrics as Array<{ resource?: { attributes?: KV[] }; scopeMetrics?: Array<{ metrics?: M[] }> }>) ?? []) {
    const res = attrs(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const name = m.name ?? '';
        const kind = m.gauge ? 'gauge' : m.sum ? 'sum' : m.histogram ? 'histogram' : m.exponentialHistogram ? 'exponentialHistogram' : m.summary ? 'summary' : null;
        const points = kind ? (m[kind as 'gauge']?.dataPoints ?? []) : [];
        if (!kind) {
          out.seen++;
          out.unmapped++;
          out.unmappedNames.add(name);
          continue;
        }
        for (const p of points) {
          out.seen++;
          const a = attrs(p.attributes);
          const value = kind === 'gauge' || kind === 'sum' ? num(p.asDouble) ?? num(p.asInt) ?? 0 : num(p.sum) ?? 0;
          const w = who(cfg, a, res);
          const time = nanosToMs(p.timeUnixNano) || Date.now();
          const e: Record<string, unknown> = {
            event_id: hashId('otlp-m', res, name, a, String(p.timeUnixNano ?? '')),
            event_type: 'system_metric',
            timestamp: new Date(time).toISOString(),
            user_id: w.user_id,
            department_id: w.department_id,
            session_id: w.session_id,
            metric_name: name,
            metric_value: value,
            metric_unit: str(m.unit),
            agent_name: str(res['service.name']),
            model_used: str(a.model) ?? str(a['gen_ai.response.model']) ?? str(a['gen_ai.request.model']),
          };
          const tokenType = str(a.type) ?? str(a['gen_ai.token.type']);
          if (/token\.usage$/.test(name) && tokenType) {
            const n = Math.round(value);
            if (tokenType === 'input' || tokenType === 'cacheCreation') e.input_tokens = n;
            else if (tokenType === 'output') e.output_tokens = n;
            else if (tokenType === 'cacheRead') {
              // cached tokens are part of input (GenAI convention) and priced at the cached rate
              e.input_tokens = n;
              e.cached_input_tokens = n;
            }
            e.metric_name = `${name}.${tokenType}`;
          } else if (/lines_of_code\.count$/.test(name)) {
            e.lines_changed = Math.round(str(a.type) === 'removed' ? -value : value);
            if (str(a.type)) e.metric_name = `${name}.${str(a.type)}`;
          }
          out.events.push(clean(e));
          out.fixes.push(['source:otlp_metric']);
        }
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ logs ----

interface LogRecord { timeUnixNano?: string | number; observedTimeUnixNano?: string | number; body?: AnyValue; attributes?: KV[]; eventName?: string; traceId?: string; spanId?: string }

export function mapLogs(req: Record<string, unknown>, cfg: OtlpAttributeConfig): Mapped {
  const out: Mapped = { events: [], fixes: [], unmapped: 0, unmappedNames: new Set(), seen: 0 };
  for (const rl of (req.resourceLogs as Array<{ resource?: { attributes?: KV[] }; scopeLogs?: Array<{ logRecords?: LogRecord[] }> }>) ?? []) {
    const res = attrs(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        out.seen++;
        const a = attrs(r.attributes);
        const full = str(r.eventName) ?? str(a['event.name']) ?? str(anyValue(r.body)) ?? '';
        const kind = full.replace(/^[a-z_]+\./, '');
        const time = nanosToMs(r.timeUnixNano) || nanosToMs(r.observedTimeUnixNano) || Date.now();
        const w = who(cfg, a, res);
        const agent = str(res['service.name']);
        const base = {
          event_id: hashId('otlp-l', res, full, a, String(r.timeUnixNano ?? r.observedTimeUnixNano ?? '')),
          timestamp: str(a['event.timestamp']) ?? new Date(time).toISOString(),
          user_id: w.user_id,
          department_id: w.department_id,
          session_id: w.session_id,
          trace_id: str(r.traceId),
        };
        const fixes = ['source:otlp_log'];
        let e: Record<string, unknown> | null = null;
        if (kind === 'api_request' || kind === 'api_error' || a['gen_ai.operation.name'] !== undefined) {
          const failed = kind === 'api_error';
          const cacheRead = num(a.cache_read_tokens) ?? num(a['gen_ai.usage.cache_read.input_tokens']) ?? 0;
          const cacheWrite = num(a.cache_creation_tokens) ?? 0;
          // Claude Code reports input without the cache parts; our input_tokens includes them
          const input = (num(a.input_tokens) ?? num(a['gen_ai.usage.input_tokens']) ?? 0) + (a.cache_read_tokens !== undefined ? cacheRead + cacheWrite : 0);
          if (!w.department_id) fixes.push('department_id:default_unassigned');
          if (!str(res['service.version'])) fixes.push('agent_version:default_unknown');
          e = {
            ...base,
            event_type: 'agent_invocation',
            department_id: w.department_id ?? 'unassigned',
            session_id: w.session_id ?? str(a['prompt.id']) ?? base.event_id,
            agent_name: agent ?? 'unknown',
            agent_version: str(res['service.version']) ?? 'unknown',
            invocation_id: str(a.request_id) ?? str(a['prompt.id']) ?? base.event_id,
            model_used: str(a.model) ?? str(a['gen_ai.response.model']) ?? str(a['gen_ai.request.model']) ?? 'unknown',
            input_tokens: input,
            output_tokens: num(a.output_tokens) ?? num(a['gen_ai.usage.output_tokens']) ?? 0,
            cached_input_tokens: cacheRead || undefined,
            execution_time_ms: num(a.duration_ms) ?? 0,
            status: failed ? 'failure' : 'success',
            error_type: failed ? (str(a.status_code) ? `http_${str(a.status_code)}` : 'api_error') : undefined,
            error_message: failed ? str(a.error) : undefined,
            cost_usd: num(a.cost_usd),
          };
        } else if (kind === 'tool_result' || kind === 'tool_decision') {
          const decision = str(a.decision);
          const ok = str(a.success);
          e = {
            ...base,
            event_type: 'tool_call',
            action: kind === 'tool_decision' ? 'decision' : 'result',
            tool_name: str(a.tool_name) ?? 'unknown',
            agent_name: agent,
            status: kind === 'tool_result' ? (ok === 'false' ? 'failure' : 'success') : undefined,
            duration_ms: num(a.duration_ms),
            decision: decision === 'accept' || decision === 'reject' ? decision : undefined,
            decision_source: str(a.source),
            error_message: str(a.error),
          };
        } else if (kind === 'user_prompt') {
          e = { ...base, event_type: 'feature_use', feature_name: 'prompt', agent_name: agent, surface: str(a['terminal.type']) };
        }
        if (!e) {
          out.unmapped++;
          out.unmappedNames.add(full || '(no event name)');
          continue;
        }
        out.events.push(clean(e));
        out.fixes.push(fixes);
      }
    }
  }
  return out;
}

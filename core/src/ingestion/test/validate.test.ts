import { describe, it, expect } from 'vitest';
import { checkEvent, parseSchemaVersionHeader, jsonDepth } from '../validate.ts';
import { allEventSchemas } from '../schema/jsonSchema.ts';

const base = {
  event_id: 'e-1', event_type: 'agent_invocation', timestamp: '2026-03-01T10:00:00.000Z',
  department_id: 'd1', user_id: 'u1', session_id: 's1', agent_name: 'reviewer', agent_version: '1.2.0',
  invocation_id: 'i1', model_used: 'claude-sonnet-4-5', input_tokens: 1200, output_tokens: 300,
  execution_time_ms: 850, status: 'success',
};

describe('checkEvent', () => {
  it('accepts a complete agent invocation without fixes', () => {
    const r = checkEvent(base);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.fixes).toEqual([]);
  });

  it('fixes numeric strings, zoneless timestamps and enum whitespace, and records each fix', () => {
    const r = checkEvent({ ...base, input_tokens: '1200', timestamp: '2026-03-01 10:00:00', status: 'Success ' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.input_tokens).toBe(1200);
    expect(r.event.timestamp).toBe('2026-03-01T10:00:00Z');
    expect(r.event.status).toBe('success');
    expect(r.fixes.sort()).toEqual(['input_tokens:numeric_string', 'status:normalized_enum', 'timestamp:assumed_utc']);
  });

  it('does not guess: a fractional token count and an unknown status are rejected with the field named', () => {
    const r = checkEvent({ ...base, input_tokens: '12.5', status: 'maybe' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field).sort()).toEqual(['input_tokens', 'status']);
  });

  it('names every missing required field and flags missingRequired', () => {
    const { agent_name: _a, model_used: _m, ...rest } = base;
    const r = checkEvent(rest);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missingRequired).toBe(true);
    expect(r.errors.map((e) => e.field).sort()).toEqual(['agent_name', 'model_used']);
  });

  it('refuses free-form fields', () => {
    const r = checkEvent({ ...base, custom: { x: 1 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ field: 'custom' });
  });

  it('upcasts v1 (renamed fields and status values) and records it', () => {
    const { model_used, execution_time_ms, ...rest } = base;
    const v1 = { ...rest, model: model_used, latency_ms: execution_time_ms, status: 'ok' };
    const r = checkEvent(v1, 1);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.receivedVersion).toBe(1);
    expect(r.event).toMatchObject({ model_used: 'claude-sonnet-4-5', execution_time_ms: 850, status: 'success', schema_version: 2 });
    expect(r.event).not.toHaveProperty('model');
    expect(r.fixes).toContain('model_used:upcast_from_v1_model');
  });

  it('validates v1 events against the v1 schema (the v2 name is unknown there)', () => {
    const r = checkEvent(base, 1);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain('model_used');
  });

  it('requires fields by action', () => {
    const ev = { event_id: 'w1', event_type: 'workflow_step', timestamp: '2026-03-01T10:00:00Z', user_id: 'u', workflow_id: 'onboarding' };
    expect(checkEvent({ ...ev, action: 'enrolled' }).ok).toBe(true);
    const r = checkEvent({ ...ev, action: 'step_entered' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain('workflow_step');
    expect(checkEvent({ ...ev, action: 'step_entered', workflow_step: 'install' }).ok).toBe(true);
    expect(checkEvent({ event_id: 'f', event_type: 'feedback', timestamp: '2026-03-01T10:00:00Z', user_id: 'u', action: 'rating' }).ok).toBe(false);
  });

  it('accepts every declared type with its minimal fields', () => {
    const t = '2026-03-01T10:00:00Z';
    const events = [
      { event_type: 'tool_call', tool_name: 'bash', action: 'result', status: 'success' },
      { event_type: 'command', command_name: '/review' },
      { event_type: 'session', action: 'started', session_id: 's' },
      { event_type: 'feature_use', feature_name: 'inline-chat' },
      { event_type: 'knowledge_artifact', action: 'reused', artifact_id: 'a1' },
      { event_type: 'feedback', action: 'accept' },
      { event_type: 'intervention', action: 'followed', intervention_id: 'tip-1' },
      { event_type: 'system_metric', metric_name: 'queue_depth', metric_value: 3 },
    ];
    for (const e of events) {
      const r = checkEvent({ event_id: 'x', timestamp: t, user_id: 'u', ...e });
      expect(r.ok, JSON.stringify(r)).toBe(true);
    }
  });

  it('fixes an event type with stray case, epoch-ms timestamps and nulls', () => {
    const r = checkEvent({ ...base, event_type: ' Agent_Invocation', timestamp: 1772359200000, error_type: null });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.fixes).toEqual(expect.arrayContaining(['event_type:normalized_enum', 'timestamp:epoch_ms', 'error_type:dropped_null']));
  });

  it('stores object payloads as JSON and refuses deep nesting', () => {
    const ok = checkEvent({ ...base, input_payload: { messages: [{ role: 'user', content: 'hi' }] } });
    expect(ok.ok && ok.event.input_payload).toBe('{"messages":[{"role":"user","content":"hi"}]}');
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const r = checkEvent({ ...base, input_payload: deep });
    expect(r.ok).toBe(false);
    expect(jsonDepth(deep, 10)).toBeGreaterThan(10);
  });

  it('rejects unknown types and non-objects', () => {
    expect(checkEvent({ ...base, event_type: 'nope' }).ok).toBe(false);
    expect(checkEvent([1, 2]).ok).toBe(false);
    expect(checkEvent('garbage').ok).toBe(false);
  });

  it('parses X-Schema-Version', () => {
    expect(parseSchemaVersionHeader(undefined)).toBeUndefined();
    expect(parseSchemaVersionHeader('1')).toBe(1);
    expect(parseSchemaVersionHeader('v2')).toBe(2);
    expect(typeof parseSchemaVersionHeader('7')).toBe('string');
  });

  it('publishes a schema per type and version', () => {
    const all = allEventSchemas();
    expect(Object.keys(all)).toHaveLength(10);
    expect(all.agent_invocation.v1).toBeDefined();
    expect(JSON.stringify(all.agent_invocation.v1)).toContain('latency_ms');
  });
});

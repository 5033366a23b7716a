/**
 * OTLP through the real OpenTelemetry SDKs and exporters (JSON and protobuf)
 * against the running server: traces, metrics and logs become typed events.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { context, trace, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter, AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { encodeOtlpRequest } from '../otlp/proto.ts';
import { extraModules } from './helpers.ts';

let be: TestBackend;
let hook: string;
let headers: Record<string, string>;

beforeAll(async () => {
  be = await startTestBackend({ modules: extraModules(), listen: true });
  hook = await be.org.hookToken();
  headers = { Authorization: `Bearer ${hook}` };
}, 60_000);
afterAll(async () => be?.close());

async function rows(where: string, params: Record<string, unknown>) {
  const s = be.kernel.services;
  const rs = await s.analytics.client.query({ query: `SELECT * FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND ${where} ORDER BY timestamp`, query_params: { org: be.org.id, ...params }, format: 'JSONEachRow' });
  return (await rs.json()) as Array<Record<string, any>>;
}

const resource = resourceFromAttributes({ 'service.name': 'review-bot', 'service.version': '3.1.0', 'user.id': 'otel-user', 'department.id': 'platform' });

async function sendSpans(exporter: JsonTraceExporter | ProtoTraceExporter, tag: string, batch: boolean) {
  // the batch processor (the usual setup) exports parent and children together; the simple one each span alone
  const processor = batch ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('test');
  const parent = tracer.startSpan(`invoke_agent review-${tag}`, { attributes: {
    'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': `reviewer-${tag}`, 'gen_ai.request.model': 'claude-sonnet-4-5',
    'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.output_tokens': 400, 'gen_ai.usage.cache_read.input_tokens': 1000, 'session.id': `sess-${tag}`,
  } });
  const ctx = trace.setSpan(context.active(), parent);
  const tool = tracer.startSpan('execute_tool grep', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'grep' } }, ctx);
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'no such file' });
  tool.end();
  const plain = tracer.startSpan('GET /health', {}, ctx); // not GenAI: reported, not stored
  plain.end();
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
  return parent.spanContext();
}

describe('OTLP', () => {
  it('maps GenAI spans from the JSON exporter to linked invocations and tool calls', async () => {
    const sc = await sendSpans(new JsonTraceExporter({ url: `${be.url}/v1/traces`, headers }), 'json', true);
    const got = await rows('trace_id = {t:String}', { t: sc.traceId });
    expect(got).toHaveLength(2);
    const inv = got.find((r) => r.event_type === 'agent_invocation')!;
    const tool = got.find((r) => r.event_type === 'tool_call')!;
    expect(inv).toMatchObject({ agent_name: 'reviewer-json', agent_version: '3.1.0', model_used: 'claude-sonnet-4-5', input_tokens: 2000, output_tokens: 400, cached_input_tokens: 1000, user_id: 'otel-user', department_id: 'platform', session_id: 'sess-json', invocation_id: sc.spanId, status: 'success', source: 'otlp', cost_source: 'computed', tools_used: ['grep'] });
    // (1000 fresh * 3 + 1000 cached * 0.3 + 400 * 15) / 1e6
    expect(Number(inv.cost_usd)).toBeCloseTo(0.0093, 9);
    expect(tool).toMatchObject({ tool_name: 'grep', invocation_id: sc.spanId, status: 'failure', error_message: 'no such file', user_id: 'otel-user' });
  });

  it('accepts the protobuf exporter, and a resend is a duplicate, not a second row', async () => {
    const sc = await sendSpans(new ProtoTraceExporter({ url: `${be.url}/v1/traces`, headers }), 'proto', false);
    const got = await rows('trace_id = {t:String}', { t: sc.traceId });
    expect(got).toHaveLength(2);
    // exported one by one, the tool call still links to its invocation by span id
    expect(got.find((r) => r.event_type === 'tool_call')!.invocation_id).toBe(sc.spanId);
    const spanId = 'aaaaaaaaaaaaaaaa', traceId = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    const req = { resourceSpans: [{ resource: { attributes: [{ key: 'user.id', value: { stringValue: 'u' } }] }, scopeSpans: [{ spans: [{ traceId, spanId, name: 'chat', startTimeUnixNano: '1772359200000000000', endTimeUnixNano: '1772359201000000000', attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.agent.name', value: { stringValue: 'raw' } }] }] }] }] };
    const body = Buffer.from(encodeOtlpRequest('traces', req));
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${be.url}/v1/traces`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-protobuf' }, body });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('application/x-protobuf');
    }
    expect(await rows('trace_id = {t:String}', { t: traceId })).toHaveLength(1);
    const bad = await fetch(`${be.url}/v1/traces`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-protobuf' }, body: Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]) });
    expect(bad.status).toBe(400);
  });

  it('reports non-GenAI spans and quarantined spans in partialSuccess', async () => {
    const req = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [
      { traceId: 'c'.repeat(32), spanId: 'c'.repeat(16), name: 'db query', startTimeUnixNano: '1772359200000000000', endTimeUnixNano: '1772359200100000000', attributes: [] },
      // GenAI, but no user anywhere: quarantined with reasons
      { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), name: 'chat', startTimeUnixNano: '1772359200000000000', endTimeUnixNano: '1772359200100000000', attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.agent.name', value: { stringValue: 'x' } }] },
    ] }] }] };
    const r = await fetch(`${be.url}/v1/traces`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(req) });
    const body = await r.json();
    expect(r.status).toBe(200);
    expect(body.partialSuccess.rejectedSpans).toBe(2);
    expect(body.partialSuccess.errorMessage).toContain('user_id');
  });

  it('maps AI-assistant metrics (tokens, cost, lines changed) from the metrics exporter', async () => {
    const exporter = new OTLPMetricExporter({ url: `${be.url}/v1/metrics`, headers, temporalityPreference: AggregationTemporalityPreference.DELTA });
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'claude-code' }), readers: [reader] });
    const meter = provider.getMeter('com.anthropic.claude_code');
    const base = { 'user.id': 'metric-user', 'session.id': 'ms-1', model: 'claude-sonnet-4-5' };
    meter.createCounter('claude_code.token.usage', { unit: 'tokens' }).add(5000, { ...base, type: 'input' });
    meter.createCounter('claude_code.cost.usage', { unit: 'USD' }).add(0.42, base);
    meter.createCounter('claude_code.lines_of_code.count').add(37, { 'user.id': 'metric-user', type: 'added' });
    meter.createCounter('claude_code.session.count').add(1, { 'user.id': 'metric-user' });
    await provider.forceFlush();
    await provider.shutdown();
    const got = await rows(`user_id = 'metric-user'`, {});
    const byName = Object.fromEntries(got.map((r) => [r.metric_name, r]));
    expect(Object.keys(byName).sort()).toEqual(['claude_code.cost.usage', 'claude_code.lines_of_code.count.added', 'claude_code.session.count', 'claude_code.token.usage.input']);
    expect(byName['claude_code.token.usage.input']).toMatchObject({ event_type: 'system_metric', input_tokens: 5000, model_used: 'claude-sonnet-4-5', agent_name: 'claude-code', session_id: 'ms-1' });
    expect(byName['claude_code.cost.usage']).toMatchObject({ metric_value: 0.42, metric_unit: 'USD' });
    expect(byName['claude_code.lines_of_code.count.added']).toMatchObject({ lines_changed: 37 });
  });

  it('maps AI-assistant log events (api_request, tool_decision, tool_result, user_prompt) from the logs exporter', async () => {
    const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'claude-code', 'service.version': '2.0.1' }), processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${be.url}/v1/logs`, headers }) })] });
    const logger = provider.getLogger('com.anthropic.claude_code.events');
    const who = { 'user.id': 'log-user', 'session.id': 'ls-1', 'department.id': 'web' };
    logger.emit({ eventName: 'claude_code.api_request', attributes: { ...who, 'event.name': 'api_request', model: 'claude-sonnet-4-5', input_tokens: '120', output_tokens: '80', cache_read_tokens: '1000', cache_creation_tokens: '0', cost_usd: '0.011', duration_ms: '2300' } });
    logger.emit({ attributes: { ...who, 'event.name': 'tool_decision', tool_name: 'Bash', decision: 'reject', source: 'user_reject' } });
    logger.emit({ attributes: { ...who, 'event.name': 'tool_result', tool_name: 'Edit', success: 'true', duration_ms: '40' } });
    logger.emit({ attributes: { ...who, 'event.name': 'user_prompt', prompt_length: '42', 'terminal.type': 'vscode' } });
    logger.emit({ attributes: { ...who, 'event.name': 'something_else' } });
    await provider.forceFlush();
    await provider.shutdown();
    const got = await rows(`user_id = 'log-user'`, {});
    const inv = got.find((r) => r.event_type === 'agent_invocation')!;
    expect(inv).toMatchObject({ agent_name: 'claude-code', agent_version: '2.0.1', model_used: 'claude-sonnet-4-5', input_tokens: 1120, cached_input_tokens: 1000, output_tokens: 80, execution_time_ms: 2300, cost_source: 'caller', department_id: 'web' });
    expect(Number(inv.cost_usd)).toBeCloseTo(0.011, 9);
    expect(got.find((r) => r.action === 'decision')).toMatchObject({ event_type: 'tool_call', tool_name: 'Bash', decision: 'reject', decision_source: 'user_reject' });
    expect(got.find((r) => r.action === 'result')).toMatchObject({ tool_name: 'Edit', status: 'success', duration_ms: 40 });
    expect(got.find((r) => r.event_type === 'feature_use')).toMatchObject({ feature_name: 'prompt', surface: 'vscode' });
    expect(got).toHaveLength(4);
  });

  it('accepts gzip bodies and refuses unknown encodings', async () => {
    const { gzipSync } = await import('node:zlib');
    const req = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gz' } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: '1772359200000000000', attributes: [{ key: 'event.name', value: { stringValue: 'user_prompt' } }, { key: 'user.id', value: { stringValue: 'gz-user' } }] }] }] }] };
    const r = await fetch(`${be.url}/v1/logs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(req)) });
    expect(r.status).toBe(200);
    expect(await rows(`user_id = 'gz-user'`, {})).toHaveLength(1);
    const br = await fetch(`${be.url}/v1/logs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'br' }, body: 'xx' });
    expect(br.status).toBe(415);
  });
});

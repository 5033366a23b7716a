import { describe, it, expect } from 'vitest';
import { GroupCommitter, rowKey } from '../commit.ts';
import { CoalescingPublisher } from '../publish.ts';
import { mapTraces, mapMetrics, mapLogs, DEFAULT_OTLP_ATTRIBUTES } from '../otlp/map.ts';
import { decodeOtlp, encodeOtlpRequest, encodeOtlpResponse } from '../otlp/proto.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('group commit', () => {
  it('answers each submitter only after the insert holding its rows resolved, in batches', async () => {
    const inserts: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = new GroupCommitter({
      batchSize: 10, maxDelayMs: 5, maxConcurrent: 1,
      async insert(rows) { inserts.push(rows.length); await gate; },
    });
    let done = 0;
    const ps = Array.from({ length: 25 }, (_, i) => c.submit([{ org_id: 'o', event_id: `e${i}` }]).then(() => done++));
    await sleep(20);
    expect(done).toBe(0); // the insert has not resolved: nobody is answered
    release();
    await Promise.all(ps);
    expect(done).toBe(25);
    expect(inserts.reduce((a, b) => a + b)).toBe(25);
    expect(Math.max(...inserts)).toBeLessThanOrEqual(10);
  });

  it('drops rows already stored and rejects everyone in a failed insert', async () => {
    let fail = true;
    const stored: string[] = [];
    const c = new GroupCommitter({
      batchSize: 100, maxDelayMs: 1, maxConcurrent: 1,
      alreadyStored: async (rows) => new Set(rows.filter((r) => r.event_id === 'old').map((r) => rowKey(r.org_id, r.event_id))),
      async insert(rows) { if (fail) throw new Error('store down'); stored.push(...rows.map((r) => r.event_id)); },
    });
    await expect(c.submit([{ org_id: 'o', event_id: 'a' }])).rejects.toThrow('store down');
    fail = false;
    const dups = await c.submit([{ org_id: 'o', event_id: 'a' }, { org_id: 'o', event_id: 'old' }]);
    expect([...dups]).toEqual([rowKey('o', 'old')]);
    expect(stored).toEqual(['a']);
    await c.drain();
  });
});

describe('coalescing publisher', () => {
  it('sends the first batch at once and at most one message per interval per scope after it', async () => {
    const sent: Array<{ scope: { kind: string }; payload: { count: number } }> = [];
    const p = new CoalescingPublisher({ publish: async (_o, scope, _t, payload) => void sent.push({ scope, payload: payload as { count: number } }) }, 50);
    const row = { event_type: 'agent_invocation', timestamp: '2026-01-01T00:00:00Z', user_id: 'u', department_id: 'd', agent_name: 'a' };
    p.add('org', [row]);
    expect(sent.filter((m) => m.scope.kind === 'org')).toHaveLength(1);
    for (let i = 0; i < 1000; i++) p.add('org', [row]);
    await sleep(80);
    const org = sent.filter((m) => m.scope.kind === 'org');
    expect(org).toHaveLength(2);
    expect(org.reduce((n, m) => n + m.payload.count, 0)).toBe(1001);
    expect(sent.filter((m) => m.scope.kind === 'user')).toHaveLength(2);
  });
});

describe('OTLP mapping', () => {
  const res = { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'user.id', value: { stringValue: 'u1' } }] };
  it('maps GenAI spans, links tools to their invocation, and survives a protobuf round trip', () => {
    const req = { resourceSpans: [{ resource: res, scopeSpans: [{ spans: [
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'chat', startTimeUnixNano: '1772359200000000000', endTimeUnixNano: '1772359200500000000', attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: '100' } }, { key: 'gen_ai.usage.output_tokens', value: { intValue: 5 } }] },
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'c7ad6b7169203331', parentSpanId: 'b7ad6b7169203331', name: 'execute_tool', startTimeUnixNano: '1772359200100000000', endTimeUnixNano: '1772359200200000000', status: { code: 2, message: 'boom' }, attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } }, { key: 'gen_ai.tool.name', value: { stringValue: 'search' } }] },
    ] }] }] };
    for (const body of [req, decodeOtlp('traces', encodeOtlpRequest('traces', req))]) {
      const m = mapTraces(body, DEFAULT_OTLP_ATTRIBUTES);
      expect(m.events).toHaveLength(2);
      expect(m.events[0]).toMatchObject({ event_type: 'agent_invocation', event_id: 'otlp-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', agent_name: 'svc', model_used: 'gpt-4o', input_tokens: 100, output_tokens: 5, execution_time_ms: 500, user_id: 'u1', tools_used: ['search'], timestamp: '2026-03-01T10:00:00.000Z' });
      expect(m.events[1]).toMatchObject({ event_type: 'tool_call', tool_name: 'search', invocation_id: 'b7ad6b7169203331', status: 'failure', error_message: 'boom', duration_ms: 100 });
      expect(m.fixes[0]).toContain('agent_version:default_unknown');
    }
    expect(encodeOtlpResponse('traces', 0, '')).toHaveLength(0);
  });

  it('maps token metrics and assistant log events, and counts what it cannot map', () => {
    const metrics = mapMetrics({ resourceMetrics: [{ resource: res, scopeMetrics: [{ metrics: [
      { name: 'gen_ai.client.token.usage', unit: '{token}', histogram: { dataPoints: [{ timeUnixNano: '1772359200000000000', sum: 300, count: 2, attributes: [{ key: 'gen_ai.token.type', value: { stringValue: 'output' } }, { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } }] }] } },
    ] }] }] }, DEFAULT_OTLP_ATTRIBUTES);
    expect(metrics.events[0]).toMatchObject({ event_type: 'system_metric', metric_name: 'gen_ai.client.token.usage.output', metric_value: 300, output_tokens: 300, model_used: 'gpt-4o', user_id: 'u1' });
    const logs = mapLogs({ resourceLogs: [{ resource: res, scopeLogs: [{ logRecords: [
      { timeUnixNano: '1772359200000000000', attributes: [{ key: 'event.name', value: { stringValue: 'claude_code.api_error' } }, { key: 'model', value: { stringValue: 'claude-sonnet-4-5' } }, { key: 'error', value: { stringValue: 'overloaded' } }, { key: 'status_code', value: { stringValue: '529' } }] },
      { timeUnixNano: '1772359200000000000', attributes: [{ key: 'event.name', value: { stringValue: 'mystery' } }] },
    ] }] }] }, DEFAULT_OTLP_ATTRIBUTES);
    expect(logs.events).toHaveLength(1);
    expect(logs.events[0]).toMatchObject({ event_type: 'agent_invocation', status: 'failure', error_type: 'http_529', error_message: 'overloaded' });
    expect(logs.unmapped).toBe(1);
    // the same record always maps to the same id (exporter retries dedupe)
    expect(mapLogs({ resourceLogs: [{ resource: res, scopeLogs: [{ logRecords: [{ timeUnixNano: '1', attributes: [{ key: 'event.name', value: { stringValue: 'user_prompt' } }] }] }] }] }, DEFAULT_OTLP_ATTRIBUTES).events[0]!.event_id)
      .toBe(mapLogs({ resourceLogs: [{ resource: res, scopeLogs: [{ logRecords: [{ timeUnixNano: '1', attributes: [{ key: 'event.name', value: { stringValue: 'user_prompt' } }] }] }] }] }, DEFAULT_OTLP_ATTRIBUTES).events[0]!.event_id);
  });
});

describe('bloom filter of stored ids', async () => {
  const { BloomFilter } = await import('../storedFilter.ts');
  it('has no false negatives and about 1 % false positives', () => {
    const f = new BloomFilter(50_000);
    for (let i = 0; i < 50_000; i++) f.add(`org\u0000id-${i}`);
    for (let i = 0; i < 50_000; i++) expect(f.has(`org\u0000id-${i}`)).toBe(true);
    let fp = 0;
    for (let i = 0; i < 50_000; i++) if (f.has(`org\u0000other-${i}`)) fp++;
    expect(fp / 50_000).toBeLessThan(0.03);
  });
});

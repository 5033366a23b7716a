/**
 * OTLP protobuf decoding. The messages below are the subset of
 * opentelemetry-proto (v1: common, resource, trace, metrics, logs and the
 * collector services) that ingestion reads, with the upstream field numbers;
 * fields not listed are skipped by the decoder, so newer senders still decode.
 * Names are converted to lowerCamelCase, the OTLP/JSON spelling, so both
 * encodings feed the same mapping code.
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package otlp;

message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Resource { repeated KeyValue attributes = 1; }

message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }

message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; optional double min = 11; optional double max = 12;
}
message ExponentialHistogramDataPoint {
  repeated KeyValue attributes = 1; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; optional double min = 12; optional double max = 13;
}
message SummaryDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4; double sum = 5; }
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message ExponentialHistogram { repeated ExponentialHistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10; Summary summary = 11; }
}
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }

message LogRecord {
  fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; string event_name = 12;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;

export type OtlpSignal = 'traces' | 'metrics' | 'logs';

const REQUEST: Record<OtlpSignal, protobuf.Type> = {
  traces: root.lookupType('otlp.ExportTraceServiceRequest'),
  metrics: root.lookupType('otlp.ExportMetricsServiceRequest'),
  logs: root.lookupType('otlp.ExportLogsServiceRequest'),
};
const RESPONSE: Record<OtlpSignal, { type: protobuf.Type; field: string }> = {
  traces: { type: root.lookupType('otlp.ExportTraceServiceResponse'), field: 'rejectedSpans' },
  metrics: { type: root.lookupType('otlp.ExportMetricsServiceResponse'), field: 'rejectedDataPoints' },
  logs: { type: root.lookupType('otlp.ExportLogsServiceResponse'), field: 'rejectedLogRecords' },
};

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** Byte ids become lowercase hex, as in OTLP/JSON; other bytes stay as given. */
function hexIds(v: unknown): unknown {
  const stack: unknown[] = [v];
  while (stack.length) {
    const o = stack.pop();
    if (!o || typeof o !== 'object' || o instanceof Uint8Array) continue;
    if (Array.isArray(o)) {
      for (const x of o) stack.push(x);
      continue;
    }
    const rec = o as Record<string, unknown>;
    for (const [k, x] of Object.entries(rec)) {
      if (ID_FIELDS.has(k) && x instanceof Uint8Array) rec[k] = Buffer.from(x).toString('hex');
      else if (x && typeof x === 'object') stack.push(x);
    }
  }
  return v;
}

/** Decodes an OTLP protobuf request into the OTLP/JSON shape. Throws on malformed input. */
export function decodeOtlp(signal: OtlpSignal, buf: Uint8Array): Record<string, unknown> {
  const t = REQUEST[signal];
  const msg = t.decode(buf);
  return hexIds(t.toObject(msg, { longs: String, enums: Number, defaults: false, oneofs: false })) as Record<string, unknown>;
}

export function encodeOtlpResponse(signal: OtlpSignal, rejected: number, message: string): Uint8Array {
  const { type, field } = RESPONSE[signal];
  const payload = rejected > 0 || message ? { partialSuccess: { [field]: rejected, errorMessage: message } } : {};
  return type.encode(type.fromObject(payload)).finish();
}

export function otlpJsonResponse(signal: OtlpSignal, rejected: number, message: string) {
  const field = RESPONSE[signal].field;
  return rejected > 0 || message ? { partialSuccess: { [field]: rejected, errorMessage: message } } : {};
}

/** For tests and the example: encode a request object (OTLP/JSON shape with hex ids). */
export function encodeOtlpRequest(signal: OtlpSignal, obj: Record<string, unknown>): Uint8Array {
  const t = REQUEST[signal];
  const copy = JSON.parse(JSON.stringify(obj), (k, v) => (ID_FIELDS.has(k) && typeof v === 'string' ? Buffer.from(v, 'hex') : v));
  return t.encode(t.fromObject(copy)).finish();
}

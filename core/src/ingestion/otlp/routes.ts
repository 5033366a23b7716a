/**
 * OTLP/HTTP receivers: POST /v1/traces, /v1/metrics, /v1/logs, in JSON and
 * protobuf (gzip accepted), authenticated by hook tokens like the REST doors.
 *
 * Answers follow the OTLP/HTTP spec: 200 with `partialSuccess` counting the
 * records that were not stored (invalid → quarantined, or not GenAI/AI-assistant
 * telemetry), in the request's encoding; 503 + Retry-After when the store did
 * not confirm the write, which OTLP exporters retry — safely, because event ids
 * are derived from the telemetry.
 */
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, type Org } from '@orrery/plugin-sdk';
import type { Pipeline } from '../pipeline.ts';
import { installJsonParser } from '../json.ts';
import { unavailableOnError } from '../routes.ts';
import { decodeOtlp, encodeOtlpResponse, otlpJsonResponse, type OtlpSignal } from './proto.ts';
import { mapTraces, mapMetrics, mapLogs, DEFAULT_OTLP_ATTRIBUTES, type OtlpAttributeConfig, type Mapped } from './map.ts';

export { DEFAULT_OTLP_ATTRIBUTES, type OtlpAttributeConfig };

const MAPPERS: Record<OtlpSignal, (req: Record<string, unknown>, cfg: OtlpAttributeConfig) => Mapped> = {
  traces: mapTraces,
  metrics: mapMetrics,
  logs: mapLogs,
};

const PROTOBUF = 'application/x-protobuf';

export function registerOtlpRoutes(app: FastifyInstance, d: { pipeline: Pipeline; attributes: OtlpAttributeConfig; bodyLimit: number }) {
  // an encapsulated context: the protobuf parser and gunzip hook apply to these routes only
  void app.register(async (scope) => {
    installJsonParser(scope, d.bodyLimit);
    scope.addContentTypeParser(PROTOBUF, { parseAs: 'buffer', bodyLimit: d.bodyLimit }, (_req, body, done) => done(null, body));
    scope.addHook('preParsing', async (req, _reply, payload) => {
      const enc = req.headers['content-encoding'];
      if (!enc || enc === 'identity') return payload;
      if (enc !== 'gzip') throw new HttpError(415, 'unsupported_encoding', `content-encoding ${enc} is not supported (use gzip or none)`);
      delete req.headers['content-length'];
      return payload.pipe(createGunzip());
    });

    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      scope.post(`/v1/${signal}`, {
        config: { permission: 'events.write', tokenKinds: ['hook_token'] },
        bodyLimit: d.bodyLimit,
        schema: {
          tags: ['events'],
          summary: `OTLP/HTTP ${signal} (JSON or protobuf, optionally gzip)`,
          description: signal === 'traces'
            ? 'GenAI spans (gen_ai.operation.name, gen_ai.request.model, gen_ai.usage.*, gen_ai.tool.name…) become agent_invocation and tool_call events linked by span ids. Other spans are counted as rejected in partialSuccess.'
            : signal === 'metrics'
              ? 'Every data point becomes a system_metric; token, cost and lines-of-code metrics of AI coding assistants also fill the typed columns.'
              : 'AI coding assistant events (api_request, api_error, tool_result, tool_decision, user_prompt) become agent invocations, tool calls and feature use.',
          body: {
            content: {
              'application/json': { schema: { type: 'object', description: `OTLP/JSON Export${signal === 'traces' ? 'Trace' : signal === 'metrics' ? 'Metrics' : 'Logs'}ServiceRequest` } },
              [PROTOBUF]: { schema: { description: 'OTLP protobuf request' } },
            },
          },
          response: { 200: { description: 'Export response (partialSuccess when records were not stored)', type: 'object', additionalProperties: true } },
        },
      }, async (req: FastifyRequest, reply: FastifyReply) => {
        if (!req.auth) throw new HttpError(401, 'unauthorized', 'not authenticated');
        const proto = String(req.headers['content-type'] ?? '').startsWith(PROTOBUF);
        let body: Record<string, unknown>;
        if (proto) {
          try {
            body = decodeOtlp(signal, req.body as Buffer);
          } catch (err) {
            throw new HttpError(400, 'invalid_protobuf', `not a valid OTLP ${signal} protobuf message: ${(err as Error).message}`);
          }
        } else {
          body = req.body as Record<string, unknown>;
          if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_request', 'expected an OTLP/JSON object');
        }
        const { rejected, message } = await ingest(d, req.auth.org, signal, body, req, reply);
        if (proto) return reply.status(200).type(PROTOBUF).send(Buffer.from(encodeOtlpResponse(signal, rejected, message)));
        return reply.status(200).send(otlpJsonResponse(signal, rejected, message));
      });
    }
  });
}

async function ingest(d: { pipeline: Pipeline; attributes: OtlpAttributeConfig }, org: Org, signal: OtlpSignal, body: Record<string, unknown>, req: FastifyRequest, reply: FastifyReply) {
  const mapped = MAPPERS[signal](body, d.attributes);
  const results = mapped.events.length
    ? await unavailableOnError(req, reply, () => d.pipeline.ingest(org, mapped.events, { source: 'otlp', preFixes: mapped.fixes }))
    : [];
  if (results.some((r) => r.status === 'retry')) {
    reply.header('retry-after', '1');
    throw new HttpError(503, 'commit_failed', 'the event store did not confirm the write; export again');
  }
  const invalid = results.filter((r) => r.status === 'invalid' || r.status === 'rejected');
  const rejected = invalid.length + mapped.unmapped;
  const parts: string[] = [];
  if (invalid.length) {
    const fields = [...new Set(invalid.flatMap((r) => ((r.error?.details as Array<{ field: string }>) ?? []).map((p) => p.field)))];
    parts.push(`${invalid.length} quarantined (fields: ${fields.slice(0, 10).join(', ')})`);
  }
  if (mapped.unmapped) parts.push(`${mapped.unmapped} not GenAI/assistant telemetry (${[...mapped.unmappedNames].slice(0, 5).join(', ')})`);
  return { rejected, message: parts.join('; ') };
}

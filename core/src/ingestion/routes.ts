/**
 * HTTP doors of the pipeline and the admin routes around it (quarantine,
 * privacy, prices, quality, deleting a user's events).
 */
import { BacklogFullError } from './log.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { HttpError, badRequest, notFound, type Org, type Caller } from '@orrery/plugin-sdk';
import { EVENT_TYPES, CURRENT_SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS } from './schema/catalog.ts';
import { allEventSchemas, eventSchema } from './schema/jsonSchema.ts';
import { parseSchemaVersionHeader, checkEvent } from './validate.ts';
import type { ItemResult, Pipeline } from './pipeline.ts';
import type { IngestionOrgStore } from './orgStore.ts';
import type { QualityTracker } from './quality.ts';
import { DEFAULT_PRICES } from './cost.ts';
import type { Deduper } from './dedup.ts';
import { installJsonParser } from './json.ts';

export const MAX_BATCH = 10_000;

export interface RouteDeps {
  pipeline: Pipeline;
  store: IngestionOrgStore;
  quality: QualityTracker;
  deduper: Deduper;
  limits: { singleBodyBytes: number; batchBodyBytes: number };
  deleteUserEvents(org: Org, userId: string): Promise<number>;
  audit(org: Org, caller: Caller | null, e: { action: string; target?: string; before?: unknown; after?: unknown; ip?: string }): Promise<void>;
  publishUserDeleted(org: Org, userId: string): Promise<void>;
  lookup(org: Org, eventId: string): Promise<Record<string, unknown> | null>;
  /** the durable log's backlog and the loader's lag (shown by the quality route) */
  ingestionStatus?(): Record<string, unknown>;
}

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
};

const problemList = { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, problem: { type: 'string' } } } };

const itemResultSchema = {
  type: 'object',
  properties: {
    event_id: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['accepted', 'duplicate', 'invalid', 'rejected', 'retry'] },
    quarantine_id: { type: 'string' },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } },
  },
  required: ['event_id', 'status'],
};

/** Documents every event schema in OpenAPI without fastify rejecting bad events with a 400: they must reach quarantine. */
const eventDocSchema = {
  description: `One event. Strict schemas per type (no free-form fields), current version ${CURRENT_SCHEMA_VERSION}; older versions (${SUPPORTED_SCHEMA_VERSIONS.join(', ')}) are chosen by X-Schema-Version and upcast. Full schemas: GET /api/v1/events/schemas.`,
  oneOf: EVENT_TYPES.map((t) => {
    const { $id: _id, ...s } = eventSchema(t, CURRENT_SCHEMA_VERSION) as Record<string, unknown>;
    return s;
  }),
};

const headersSchema = {
  type: 'object',
  properties: { 'x-schema-version': { type: 'string', description: `Schema version of the events (default ${CURRENT_SCHEMA_VERSION})` } },
};

const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Body validation is the pipeline's job (fix, validate, quarantine); this
 * compiler only insists on a JSON object so the handler can rely on it.
 */
const permissiveBody: FastifySchemaCompiler<unknown> = ({ httpPart }) => (data: unknown) => {
  if (httpPart !== 'body' || isObject(data)) return { value: data };
  const err = new HttpError(400, 'invalid_request', 'the body must be a JSON object');
  return { error: err as unknown as Error };
};

function headerVersion(req: FastifyRequest): number | undefined {
  const v = parseSchemaVersionHeader(req.headers['x-schema-version']);
  if (typeof v === 'string') throw badRequest(v, { header: 'x-schema-version' });
  return v;
}

/**
 * Checked before the body is read: fastify would otherwise parse text/plain
 * into a string and the sender would get a 400 about the shape instead of
 * being told the media type is wrong.
 */
async function jsonOnly(req: FastifyRequest) {
  const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct !== 'application/json') {
    throw new HttpError(415, 'unsupported_media_type', `expected Content-Type application/json, got ${ct ? JSON.stringify(ct) : 'none'}`);
  }
}

const auth = (req: FastifyRequest) => {
  if (!req.auth) throw new HttpError(401, 'unauthorized', 'not authenticated');
  return req.auth;
};

export function registerRoutes(root: FastifyInstance, d: RouteDeps) {
  // an encapsulated context, so the depth-checking JSON parser applies to these routes only
  void root.register(async (app) => {
    installJsonParser(app, d.limits.batchBodyBytes);
    routes(app, d);
  });
}

function routes(app: FastifyInstance, d: RouteDeps) {
  const write = { permission: 'events.write', tokenKinds: ['hook_token'] as Array<'hook_token'> };
  // At info level fastify logs two lines per request ("incoming request", "request completed"):
  // on the ingestion doors that is thousands of lines a second of no use. Warnings and errors
  // (a store unreachable, a failed commit) are still logged.
  const ingestLogLevel = 'warn';
  const manage = { permission: 'ingestion.manage' };
  const read = { permission: 'ingestion.read' };

  app.post('/api/v1/events', {
    logLevel: ingestLogLevel,
    config: write,
    bodyLimit: d.limits.singleBodyBytes,
    preParsing: jsonOnly,
    validatorCompiler: permissiveBody,
    schema: {
      tags: ['events'],
      summary: 'Ingest one event (hook token); 202 once committed',
      description: '202 `{event_id}` only after the event is committed to the event store. 409 when the event_id was already received (on any node, before any restart). 422 when it fails validation: it is quarantined and the answer names the fields. Unambiguous mistakes (numeric strings, timestamps without zone, enum case/whitespace) are fixed and the fixes recorded on the row. 503 + Retry-After when an earlier copy is still being committed or the store did not confirm the write: send the same event again.',
      headers: headersSchema,
      body: eventDocSchema,
      response: {
        202: { type: 'object', properties: { event_id: { type: 'string' }, fixes: { type: 'array', items: { type: 'string' } } }, required: ['event_id'] },
        400: errorSchema, 403: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema, 422: errorSchema, 503: errorSchema,
      },
    },
  }, async (req, reply) => {
    const { org } = auth(req);
    const version = headerVersion(req);
    const [res] = (await unavailableOnError(req, reply, () => d.pipeline.ingest(org, [req.body], { headerVersion: version, source: 'api' }))) as [ItemResult];
    switch (res.status) {
      case 'accepted': return reply.status(202).send({ event_id: res.event_id });
      case 'duplicate': throw new HttpError(409, 'duplicate_event', res.error!.message, { event_id: res.event_id });
      case 'invalid': throw new HttpError(422, 'invalid_event', `event failed validation and was quarantined: ${res.error!.message}`, { event_id: res.event_id, quarantine_id: res.quarantine_id, errors: res.error!.details });
      case 'rejected': throw new HttpError(403, res.error!.code, res.error!.message, { event_id: res.event_id });
      case 'retry': return retry(reply, res.error!.code, res.error!.message);
    }
  });

  app.post('/api/v1/events/batch', {
    logLevel: ingestLogLevel,
    config: write,
    bodyLimit: d.limits.batchBodyBytes,
    preParsing: jsonOnly,
    validatorCompiler: permissiveBody,
    schema: {
      tags: ['events'],
      summary: `Ingest up to ${MAX_BATCH} events (hook token); a result per event`,
      description: 'Answers once every accepted event is committed. Per event: `accepted`, `duplicate`, `invalid` (quarantined; `error.details` names the fields), `rejected` (names another org), `retry` (send it again). Partial acceptance is normal: resend only the `retry` ones.',
      headers: headersSchema,
      body: { type: 'object', required: ['events'], properties: { events: { type: 'array', maxItems: MAX_BATCH, items: eventDocSchema } } },
      response: {
        200: { type: 'object', properties: { accepted: { type: 'integer' }, rejected: { type: 'integer' }, results: { type: 'array', items: itemResultSchema } }, required: ['accepted', 'rejected', 'results'] },
        400: errorSchema, 413: errorSchema, 415: errorSchema, 503: errorSchema,
      },
    },
  }, async (req, reply) => {
    const { org } = auth(req);
    const version = headerVersion(req);
    const events = (req.body as { events?: unknown }).events;
    if (!Array.isArray(events)) throw badRequest('expected {"events": [...]}', { field: 'events' });
    if (events.length > MAX_BATCH) throw new HttpError(413, 'batch_too_large', `at most ${MAX_BATCH} events per batch, got ${events.length}`, { max: MAX_BATCH, got: events.length });
    const results = await unavailableOnError(req, reply, () => d.pipeline.ingest(org, events, { headerVersion: version, source: 'batch' }));
    let accepted = 0;
    for (const r of results) if (r.status === 'accepted') accepted++;
    return { accepted, rejected: results.length - accepted, results };
  });

  app.get('/api/v1/events/schemas', {
    config: { permission: 'public' },
    schema: {
      tags: ['events'],
      summary: 'The strict JSON schema of every event type, per supported version',
      response: { 200: { type: 'object', properties: { current_version: { type: 'integer' }, versions: { type: 'array', items: { type: 'integer' } }, schemas: { type: 'object', additionalProperties: true } } } },
    },
  }, async () => ({ current_version: CURRENT_SCHEMA_VERSION, versions: [...SUPPORTED_SCHEMA_VERSIONS], schemas: allEventSchemas() }));

  app.get('/api/v1/events/:event_id', {
    config: read,
    schema: {
      tags: ['events'],
      summary: 'One stored event by id, as stored (fixes, versions, computed cost); 404 when not stored',
      params: { type: 'object', required: ['event_id'], properties: { event_id: { type: 'string', minLength: 1, maxLength: 128 } } },
      response: { 200: { type: 'object', additionalProperties: true }, 404: errorSchema },
    },
  }, async (req) => {
    const row = await d.lookup(auth(req).org, (req.params as { event_id: string }).event_id);
    if (!row) throw notFound('no stored event with this id (it may be quarantined: see /api/v1/events/quarantine)');
    return row;
  });

  // ---- quarantine -------------------------------------------------------
  const quarantineItem = {
    type: 'object',
    properties: {
      id: { type: 'string' }, event_id: { type: ['string', 'null'] }, event_type: { type: ['string', 'null'] }, source: { type: 'string' },
      schema_version: { type: 'integer' }, payload: {}, errors: problemList, status: { type: 'string', enum: ['pending', 'replayed', 'discarded'] },
      resolution: { type: ['string', 'null'] }, received_at: { type: 'string' }, updated_at: { type: 'string' },
    },
  };
  const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } };

  app.get('/api/v1/events/quarantine', {
    config: manage,
    schema: {
      tags: ['events'],
      summary: 'Quarantined events of the org, newest first',
      querystring: { type: 'object', additionalProperties: false, properties: {
        status: { type: 'string', enum: ['pending', 'replayed', 'discarded'] }, event_type: { type: 'string' },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, before: { type: 'string', format: 'date-time' },
      } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: quarantineItem }, counts: { type: 'object', additionalProperties: { type: 'integer' } } } } },
    },
  }, async (req) => d.store.listQuarantine(auth(req).org, req.query as { status?: string; limit: number; before?: string; event_type?: string }));

  app.get('/api/v1/events/quarantine/:id', {
    config: manage,
    schema: { tags: ['events'], summary: 'One quarantined event with its validation errors', params: idParams, response: { 200: quarantineItem, 404: errorSchema } },
  }, async (req) => {
    const item = await d.store.getQuarantine(auth(req).org, (req.params as { id: string }).id);
    if (!item) throw notFound('no such quarantined event');
    return item;
  });

  app.put('/api/v1/events/quarantine/:id', {
    config: manage,
    schema: {
      tags: ['events'],
      summary: 'Fix a quarantined event: replace its body; it is checked again (not yet stored — replay stores it)',
      params: idParams,
      body: { type: 'object', required: ['event'], additionalProperties: false, properties: { event: { type: 'object', additionalProperties: true }, schema_version: { type: 'integer', enum: [...SUPPORTED_SCHEMA_VERSIONS] } } },
      response: { 200: { type: 'object', properties: { valid: { type: 'boolean' }, errors: problemList, fixes: { type: 'array', items: { type: 'string' } }, item: quarantineItem } }, 404: errorSchema, 409: errorSchema },
    },
  }, async (req) => {
    const { org, caller } = auth(req);
    const id = (req.params as { id: string }).id;
    const body = req.body as { event: Record<string, unknown>; schema_version?: number };
    const item = await d.store.getQuarantine(org, id);
    if (!item) throw notFound('no such quarantined event');
    if (item.status !== 'pending') throw new HttpError(409, 'not_pending', `this event is already ${item.status}`);
    const version = body.schema_version ?? item.schema_version;
    const r = checkEvent(body.event, version);
    const errors = r.ok ? [] : r.errors;
    await d.store.updateQuarantine(org, id, {
      payload: body.event, errors, schema_version: version,
      event_id: typeof body.event.event_id === 'string' ? body.event.event_id : null,
      event_type: typeof body.event.event_type === 'string' ? body.event.event_type : null,
    });
    await d.audit(org, caller, { action: 'events.quarantine.fixed', target: id, before: item.payload, after: body.event, ip: req.ip });
    return { valid: r.ok, errors, fixes: r.ok ? r.fixes : [], item: (await d.store.getQuarantine(org, id))! };
  });

  const replayOne = async (org: Org, id: string) => {
    const item = await d.store.getQuarantine(org, id);
    if (!item) return { id, status: 'not_found' as const };
    if (item.status !== 'pending') return { id, status: item.status };
    const [res] = await d.pipeline.ingest(org, [item.payload], { headerVersion: item.schema_version, source: 'replay', noQuarantine: true });
    if (res!.status === 'accepted' || res!.status === 'duplicate') {
      await d.store.updateQuarantine(org, id, { status: 'replayed', resolution: res!.status, errors: [] });
      return { id, status: 'replayed' as const, result: res!.status, event_id: res!.event_id };
    }
    if (res!.status === 'invalid') await d.store.updateQuarantine(org, id, { errors: res!.error?.details as never });
    return { id, status: 'pending' as const, result: res!.status, event_id: res!.event_id, error: res!.error };
  };
  const replayResult = {
    type: 'object',
    properties: { id: { type: 'string' }, status: { type: 'string' }, result: { type: 'string' }, event_id: { type: ['string', 'null'] }, error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
  };

  app.post('/api/v1/events/quarantine/:id/replay', {
    config: manage,
    schema: { tags: ['events'], summary: 'Send a (fixed) quarantined event through the pipeline again', params: idParams, response: { 200: replayResult, 404: errorSchema } },
  }, async (req) => {
    const { org, caller } = auth(req);
    const r = await replayOne(org, (req.params as { id: string }).id);
    if (r.status === 'not_found') throw notFound('no such quarantined event');
    await d.audit(org, caller, { action: 'events.quarantine.replayed', target: r.id, after: r, ip: req.ip });
    return r;
  });

  app.post('/api/v1/events/quarantine/replay', {
    config: manage,
    schema: {
      tags: ['events'],
      summary: 'Replay many quarantined events (the given ids, or the oldest pending ones)',
      body: { type: 'object', additionalProperties: false, properties: { ids: { type: 'array', items: { type: 'string', format: 'uuid' }, maxItems: 1000 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'object', properties: { replayed: { type: 'integer' }, still_invalid: { type: 'integer' }, results: { type: 'array', items: replayResult } } } },
    },
  }, async (req) => {
    const { org, caller } = auth(req);
    const body = (req.body ?? {}) as { ids?: string[]; limit?: number };
    const ids = body.ids ?? (await d.store.listQuarantine(org, { status: 'pending', limit: body.limit ?? 100 })).items.map((i: { id: string }) => i.id);
    const results = [];
    for (const id of ids) results.push(await replayOne(org, id));
    await d.audit(org, caller, { action: 'events.quarantine.replayed', target: `${ids.length} events`, after: { ids }, ip: req.ip });
    return { replayed: results.filter((r) => r.status === 'replayed').length, still_invalid: results.filter((r) => r.status === 'pending').length, results };
  });

  app.delete('/api/v1/events/quarantine/:id', {
    config: manage,
    schema: { tags: ['events'], summary: 'Discard a quarantined event (kept as discarded for the record)', params: idParams, response: { 204: { type: 'null' }, 404: errorSchema } },
  }, async (req, reply) => {
    const { org, caller } = auth(req);
    const id = (req.params as { id: string }).id;
    const item = await d.store.getQuarantine(org, id);
    if (!item) throw notFound('no such quarantined event');
    await d.store.updateQuarantine(org, id, { status: 'discarded', resolution: `discarded by ${caller.email}` });
    await d.audit(org, caller, { action: 'events.quarantine.discarded', target: id, ip: req.ip });
    return reply.status(204).send();
  });

  // ---- right to be forgotten --------------------------------------------
  app.delete('/api/v1/events/users/:user_id', {
    config: manage,
    schema: {
      tags: ['events'],
      summary: "Delete every stored and quarantined event of one user (right to be forgotten); audited",
      description: 'Synchronous: when the answer arrives the rows are gone from the event store. Plugins are told on the bus (`ingestion.user_deleted`) to purge what they derived.',
      params: { type: 'object', required: ['user_id'], properties: { user_id: { type: 'string', minLength: 1, maxLength: 128 } } },
      response: { 200: { type: 'object', properties: { user_id: { type: 'string' }, deleted_events: { type: 'integer' }, deleted_quarantined: { type: 'integer' } } } },
    },
  }, async (req) => {
    const { org, caller } = auth(req);
    const userId = (req.params as { user_id: string }).user_id;
    const deleted = await d.deleteUserEvents(org, userId);
    const deletedQ = await d.store.deleteUserFromQuarantine(org, userId);
    await d.audit(org, caller, { action: 'events.user_deleted', target: userId, before: { events: deleted, quarantined: deletedQ }, ip: req.ip });
    await d.publishUserDeleted(org, userId);
    return { user_id: userId, deleted_events: deleted, deleted_quarantined: deletedQ };
  });

  // ---- settings: privacy and prices --------------------------------------
  const privacySchema = {
    type: 'object',
    additionalProperties: false,
    required: ['payloads'],
    properties: {
      payloads: { type: 'string', enum: ['store', 'mask', 'drop'], description: 'store payloads as sent, mask PII in them, or not store them at all' },
      mask: { type: 'object', additionalProperties: false, properties: { emails: { type: 'boolean' }, phones: { type: 'boolean' }, cards: { type: 'boolean' }, api_keys: { type: 'boolean' } } },
    },
  };
  app.get('/api/v1/ingestion/privacy', { config: manage, schema: { tags: ['ingestion'], summary: 'Privacy of stored payloads for the org', response: { 200: privacySchema } } },
    async (req) => (await d.store.settings(auth(req).org)).privacy);
  app.put('/api/v1/ingestion/privacy', {
    config: manage,
    schema: { tags: ['ingestion'], summary: 'Set the privacy of stored payloads (applies to events received from now on; audited)', body: privacySchema, response: { 200: privacySchema } },
  }, async (req) => {
    const { org, caller } = auth(req);
    const before = (await d.store.settings(org)).privacy;
    const body = req.body as { payloads: 'store' | 'mask' | 'drop'; mask?: Record<string, boolean> };
    const next = { payloads: body.payloads, mask: { ...before.mask, ...(body.mask ?? {}) } };
    await d.store.setPrivacy(org, next);
    await d.audit(org, caller, { action: 'ingestion.privacy.changed', before, after: next, ip: req.ip });
    return next;
  });

  const priceSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['model_pattern', 'effective_from', 'input_per_mtok', 'output_per_mtok'],
    properties: {
      id: { type: 'string' },
      model_pattern: { type: 'string', minLength: 1, maxLength: 200, description: 'glob on the model name, case-insensitive; `*` matches any run of characters' },
      effective_from: { type: 'string', format: 'date' },
      input_per_mtok: { type: 'number', minimum: 0, description: 'USD per million input tokens' },
      output_per_mtok: { type: 'number', minimum: 0 },
      cached_input_per_mtok: { type: 'number', minimum: 0, description: 'USD per million cached input tokens (default: the input price)' },
      source: { type: 'string', enum: ['default', 'org'] },
    },
  };
  app.get('/api/v1/ingestion/prices', {
    config: read,
    schema: { tags: ['ingestion'], summary: 'The model price table in effect: defaults and the org’s overrides (org rows win)', response: { 200: { type: 'object', properties: { prices: { type: 'array', items: priceSchema } } } } },
  }, async (req) => ({ prices: [...DEFAULT_PRICES, ...(await d.store.listPrices(auth(req).org))] }));
  app.post('/api/v1/ingestion/prices', {
    config: manage,
    schema: { tags: ['ingestion'], summary: 'Add an org price row (applies to events received from now on; audited)', body: priceSchema, response: { 201: priceSchema } },
  }, async (req, reply) => {
    const { org, caller } = auth(req);
    const b = req.body as { model_pattern: string; effective_from: string; input_per_mtok: number; output_per_mtok: number; cached_input_per_mtok?: number };
    const row = await d.store.addPrice(org, { model_pattern: b.model_pattern, effective_from: b.effective_from, input_per_mtok: b.input_per_mtok, output_per_mtok: b.output_per_mtok, cached_input_per_mtok: b.cached_input_per_mtok ?? b.input_per_mtok });
    await d.audit(org, caller, { action: 'ingestion.price.added', target: row.id, after: row, ip: req.ip });
    return reply.status(201).send(row);
  });
  app.delete('/api/v1/ingestion/prices/:id', {
    config: manage,
    schema: { tags: ['ingestion'], summary: 'Remove an org price row (audited)', params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } }, response: { 204: { type: 'null' }, 404: errorSchema } },
  }, async (req, reply) => {
    const { org, caller } = auth(req);
    const id = (req.params as { id: string }).id;
    if (!(await d.store.deletePrice(org, id))) throw notFound('no such price row');
    await d.audit(org, caller, { action: 'ingestion.price.removed', target: id, ip: req.ip });
    return reply.status(204).send();
  });

  // ---- data quality -------------------------------------------------------
  app.get('/api/v1/ingestion/quality', {
    config: read,
    schema: {
      tags: ['ingestion'],
      summary: 'Data quality of the org: missing fields, duplicates, validation failures, suspicious values, latency, freshness, alert conditions',
      querystring: { type: 'object', additionalProperties: false, properties: { minutes: { type: 'integer', minimum: 1, maximum: 43200, default: 60 } } },
      response: { 200: { type: 'object', additionalProperties: true } },
    },
  }, async (req) => {
    const { org } = auth(req);
    const minutes = (req.query as { minutes: number }).minutes;
    const [report, freshness, conditions] = await Promise.all([d.quality.report(org.id, minutes), d.quality.freshness(org.id), d.quality.conditions(org.id)]);
    return { ...report, freshness, alerts: conditions, ...(d.ingestionStatus ? { ingestion: d.ingestionStatus() } : {}) };
  });
}

/**
 * A store the pipeline needs (dedup kv, settings) is unreachable: nothing was
 * stored, so the sender is told to retry (503), not that the request failed.
 */
export async function unavailableOnError<T>(req: FastifyRequest, reply: FastifyReply, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof BacklogFullError) {
      // the loader is behind: refuse rather than grow without bound; nothing of this request was logged
      reply.header('retry-after', '5');
      throw new HttpError(503, 'ingestion_backlog_full', 'the ingestion backlog is full; nothing was stored, send again after Retry-After', { backlog_rows: err.backlogRows, limit: err.limit });
    }
    req.log.error({ err }, 'ingestion could not reach a store');
    reply.header('retry-after', '5');
    throw new HttpError(503, 'ingestion_unavailable', 'ingestion cannot reach one of its stores; nothing was stored, send again shortly');
  }
}

function retry(reply: FastifyReply, code: string, message: string) {
  reply.header('retry-after', '1');
  throw new HttpError(503, code, message);
}

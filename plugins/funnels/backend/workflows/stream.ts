/**
 * `GET /workflows/{id}/analytics/stream`: the workflow's summary as Server-Sent Events, for
 * clients without socket.io. The stream re-reads the summary (enrolments in [from, now), the
 * same SQL as `GET /workflows/{id}/analytics`) every `interval_seconds` and sends a `delta`
 * event when a figure moved, with a comment line as a heartbeat in between.
 *
 * Resumable without server state: each event's id is the state it leaves the client in
 * (`<from ms>.<enrolled>.<completed>.<exited>`). A client that reconnects with
 * `Last-Event-ID` gets, as its first `summary` event, the deltas from that state to now —
 * nothing is lost however long it was away — and `from` is kept from the id when the
 * query does not name one. Polling rather than a bus subscription keeps every API node
 * able to serve a stream (bus handlers run on the publishing node only).
 */
import { setTimeout as wait } from 'node:timers/promises';
import { badRequest, parseTimeRange, RawReply, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { HEAVY, READ } from '../funnel/routes.ts';
import { readSummary } from './figures.ts';
import { PREFIX, scopeOf } from './routes.ts';

interface State { fromMs: number; enrolled: number; completed: number; exited: number }

/** The last event id a client saw → the state it had; null when absent or not one of ours. */
export function parseEventId(id: unknown): State | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(String(id ?? ''));
  if (!m) return null;
  const [fromMs, enrolled, completed, exited] = m.slice(1).map(Number) as [number, number, number, number];
  return { fromMs, enrolled, completed, exited };
}

const eventId = (s: State) => `${s.fromMs}.${s.enrolled}.${s.completed}.${s.exited}`;
/** Waits `ms`, or less if `signal` aborts first (the client left, the platform stops). */
const sleep = (ms: number, signal: AbortSignal) => wait(ms, undefined, { signal }).catch(() => undefined);

async function read(ctx: TenantContext, workflowId: string, fromMs: number): Promise<State> {
  const scope = await scopeOf(ctx);
  const range = parseTimeRange({ from: new Date(fromMs).toISOString(), to: new Date(Math.max(Date.now(), fromMs + 1)).toISOString() });
  const { summary: r } = await readSummary(ctx, range, workflowId, scope, null);
  return { fromMs, enrolled: Number(r?.enrolled ?? 0), completed: Number(r?.completed ?? 0), exited: Number(r?.exited ?? 0) };
}

function message(kind: 'summary' | 'delta', s: State, before: State | null): string {
  const active = (x: State) => x.enrolled - x.completed - x.exited;
  const data = {
    at: new Date().toISOString(),
    from: new Date(s.fromMs).toISOString(),
    enrolled: s.enrolled,
    currently_active: active(s),
    completed: s.completed,
    exited: s.exited,
    conversion_rate: s.enrolled ? s.completed / s.enrolled : null,
    new_enrollments_delta: before ? s.enrolled - before.enrolled : null,
    currently_active_delta: before ? active(s) - active(before) : null,
    completed_delta: before ? s.completed - before.completed : null,
    exited_delta: before ? s.exited - before.exited : null,
  };
  return `id: ${eventId(s)}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerStreamRoute(env: PluginEnv) {
  env.route<{ from?: string; interval_seconds?: number; heartbeat_seconds?: number; max_seconds?: number }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics/stream',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    summary: 'Live summary of one workflow as Server-Sent Events (heartbeat; resumable with Last-Event-ID)',
    description:
      'Events: `summary` first (the figures now; with `Last-Event-ID`, the deltas since that event, else null deltas), then `delta` whenever a figure moved: ' +
      '`{at, from, enrolled, currently_active, completed, exited, conversion_rate, new_enrollments_delta, currently_active_delta, completed_delta, exited_delta}` over the ' +
      'users who enrolled in [from, now) (the definitions of `GET /workflows/{id}/analytics`). A `: heartbeat` comment every `heartbeat_seconds`. ' +
      'The event id encodes the state, so a reconnect with `Last-Event-ID` loses nothing; without `from` a resumed stream keeps the `from` of its id. ' +
      'The server ends the stream after `max_seconds`; EventSource reconnects by itself (`retry: 3000`).',
    schema: {
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: '`workflow_id`' } } },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', format: 'date-time', description: 'enrolments from this instant on; default: 30 days before the stream starts (or the resumed id\'s)' },
          interval_seconds: { type: 'integer', minimum: 1, maximum: 300, default: 5, description: 'how often the summary is re-read' },
          heartbeat_seconds: { type: 'integer', minimum: 1, maximum: 300, default: 15 },
          max_seconds: { type: 'integer', minimum: 1, maximum: 3600, default: 900, description: 'the stream ends after this long (the client resumes)' },
        },
      },
      response: { 200: { type: 'string', description: 'text/event-stream' } },
    },
    async handler(req, ctx) {
      const q = req.query;
      const last = parseEventId(req.headers['last-event-id']);
      let fromMs = q.from ? Date.parse(q.from) : (last?.fromMs ?? Date.now() - 30 * 86_400_000);
      if (Number.isNaN(fromMs)) throw badRequest(`from: "${q.from}" is not an ISO 8601 instant`, { field: 'from' });
      if (fromMs >= Date.now()) throw badRequest('from must be in the past', { field: 'from' });
      fromMs = Math.floor(fromMs);
      const id = req.params.id;
      const interval = (q.interval_seconds ?? 5) * 1000;
      const heartbeat = (q.heartbeat_seconds ?? 15) * 1000;
      const end = Date.now() + (q.max_seconds ?? 900) * 1000;
      // read once before answering: a bad query fails as a 4xx/5xx, not inside a 200 stream
      const first = await read(ctx, id, fromMs);
      // a client that leaves is noticed at once, not at the next chunk: no more reads for nobody
      const { signal } = req;
      async function* events(): AsyncGenerator<string> {
        let state = first;
        yield `retry: 3000\n\n${message('summary', state, last && last.fromMs === fromMs ? last : null)}`;
        let nextRead = Date.now() + interval;
        let nextBeat = Date.now() + heartbeat;
        while (Date.now() < end) {
          await sleep(Math.max(0, Math.min(nextRead, nextBeat, end) - Date.now()), signal);
          if (signal.aborted) return;
          if (Date.now() >= nextRead) {
            nextRead = Date.now() + interval;
            const now = await read(ctx, id, fromMs);
            if (now.enrolled !== state.enrolled || now.completed !== state.completed || now.exited !== state.exited) {
              yield message('delta', now, state);
              state = now;
              nextBeat = Date.now() + heartbeat;
            }
          }
          if (Date.now() >= nextBeat) {
            yield ': heartbeat\n\n';
            nextBeat = Date.now() + heartbeat;
          }
        }
      }
      return new RawReply(events(), { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
    },
  });
}

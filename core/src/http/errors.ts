import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from '@orrery/plugin-sdk';

/**
 * One error shape for every route: `{ error: { code, message, details } }`.
 * Validation errors name the fields; unexpected errors are logged with the
 * request id and answered without internals.
 */
export function installErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | HttpError | Error, req, reply) => {
    if (err instanceof HttpError) {
      return reply.status(err.statusCode).send({ error: { code: err.code, message: err.message, details: err.details ?? null } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => ({
        field: (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.') || (v.params as any)?.missingProperty || (v.params as any)?.additionalProperty || '',
        problem: v.message,
        ...(v.params && Object.keys(v.params).length ? { params: v.params } : {}),
      }));
      return reply.status(400).send({
        error: { code: 'invalid_request', message: `invalid ${fe.validationContext ?? 'request'}: ${details.map((d) => `${d.field || fe.validationContext} ${d.problem}`).join('; ')}`, details },
      });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = fe.code ? fe.code.replace(/^FST_ERR_/, '').toLowerCase() : 'bad_request';
      return reply.status(fe.statusCode).send({ error: { code, message: fe.message, details: null } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal', message: `internal error (request ${req.id})`, details: null } });
  });
}

/**
 * Requests that never reach fastify's router (headers over Node's limit, malformed HTTP)
 * get the same error body as every other 4xx, not Node's or fastify's own text.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: import('node:net').Socket) {
  if (!socket.writable) return socket.destroy();
  const [status, reason, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'request headers (URL included) exceed the 16 KB limit']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'the request was not received in time']
        : [400, 'Bad Request', 'bad_request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message, details: null } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}


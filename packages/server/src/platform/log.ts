/**
 * Structured JSON logs (pino). What must never reach a log line: SQL parameters, password
 * hashes, session ids and cookies, tokens, API secrets, authorization headers. Two defences:
 *
 * - errors are serialized by `serializeError`, which copies an allow-list of fields and cuts
 *   the values out of the message. Database errors carry what they were writing: drizzle puts
 *   the parameters in `params` *and* in its message ("Failed query: …\nparams: …"), PGlite
 *   attaches `params` too, and PostgreSQL's `detail` quotes the failing row ("Failing row
 *   contains (…, $argon2id$…)"). None of that is copied: the SQL text (placeholders only), the
 *   error code, the constraint and the table are enough to debug by.
 * - pino's `redact` blanks the known secret-bearing paths (headers, body-like fields) wherever
 *   a caller logs an object holding them.
 *
 * Requests get one line each, when they end (`requestLine`), with a URL whose secret parts
 * (invite tokens, token-like query parameters) are blanked.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

const CENSOR = '[redacted]';

/** Paths pino blanks in any logged object (one level of `*` is all pino's redaction matches). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
  'authorization',
  'cookie',
  'password',
  '*.password',
  'password_hash',
  '*.password_hash',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'api_secret',
  '*.api_secret',
  'secret',
  '*.secret',
  'params',
  '*.params',
];

export function loggerOptions(level: string, nodeId: string): LoggerOptions {
  return {
    level,
    base: { node: nodeId },
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: { err: serializeError, error: serializeError },
  };
}

/** Fields of an error (and of a database error) that never hold the values being written. */
const ERROR_FIELDS = [
  'code',
  'severity',
  'constraint',
  'table',
  'column',
  'schema',
  'dataType',
  'routine',
  'statusCode',
] as const;

/** An argon2 hash, a bearer or JWT-looking string: blanked in messages should one slip in. */
const SECRET_SHAPES = [
  /\$argon2(?:id|i|d)\$[^\s"',)]*/g,
  /\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, // JWT
  /\b(?:sk|padm)_[\w-]{16,}/g, // API secrets, the admin token
];

/** A message without the parameters drizzle appends, and without secret-shaped strings. */
export function cleanMessage(message: string): string {
  let m = message;
  const params = m.search(/\n\s*params:/);
  if (params >= 0) m = m.slice(0, params);
  for (const re of SECRET_SHAPES) m = m.replace(re, CENSOR);
  return m;
}

/**
 * An error as a log object, built from an allow-list (see the module comment), its causes
 * included. The stack's first line repeats the message, so it is rebuilt from the cleaned one.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (typeof err !== 'object' || err === null) return typeof err === 'string' ? cleanMessage(err) : err;
  const e = err as Record<string, unknown> & { stack?: unknown; message?: unknown; cause?: unknown };
  const type = (err as { constructor?: { name?: string } }).constructor?.name ?? 'Error';
  const message = cleanMessage(typeof e.message === 'string' ? e.message : '');
  const out: Record<string, unknown> = { type, message };
  if (typeof e.stack === 'string') {
    const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l));
    out.stack = [`${type}: ${message}`, ...frames].join('\n');
  }
  for (const k of ERROR_FIELDS) {
    const v = e[k];
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  }
  // The SQL text has placeholders ($1, $2 …), never the values.
  if (typeof e.query === 'string') out.query = e.query.slice(0, 2000);
  if (e.cause !== undefined && depth < 4) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/** Token-like query parameters, blanked in logged URLs. */
const SECRET_QUERY = /([?&](?:token|access_token|api_secret|secret|password|code)=)[^&#]*/gi;
/** Invite tokens travel in paths: `/invite/<token>`, `/v1/invites/<token>[/accept]`. */
const SECRET_PATH = /^(\/(?:v1\/invites|invite)\/)[^/?#]+/;

/** A URL fit for a log line. */
export function logUrl(url: string): string {
  return url.replace(SECRET_PATH, `$1${CENSOR}`).replace(SECRET_QUERY, `$1${CENSOR}`);
}

/**
 * The one line logged per request, when it has been answered: `request` at info, or — for an
 * unexpected error, answered 500 — `request failed` at error level with the error.
 */
export function requestLine(req: FastifyRequest, reply: FastifyReply, failure?: unknown): void {
  const line = {
    method: req.method,
    url: logUrl(req.url),
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 10) / 10,
    ip: req.ip,
  };
  if (failure) req.log.error({ ...line, err: failure }, 'request failed');
  else req.log.info(line, 'request');
}

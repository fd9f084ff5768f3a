/**
 * `Idempotency-Key` on REST writes (Stripe's scheme): a client that does not know whether a
 * POST, PUT, PATCH or DELETE went through (the connection dropped, a timeout) sends it again
 * with the same key and gets the first answer back, status and body, instead of doing it twice.
 *
 * - Keys belong to their caller: an app's server token, or one user of that app. Another
 *   caller's same key is another key.
 * - The first request with a key claims it (a row with no answer yet); a second one arriving
 *   while the first is still running is answered `REQUEST_IN_PROGRESS` (409, retryable). A
 *   claim left by a request that never finished (its process died) is taken over after
 *   `ABANDONED_MS`.
 * - The answer is kept when it says what the request did: 2xx, and the 4xx a retry would only
 *   repeat (400, 403, 404, 409, 413, 415, 422). An answer a retry could change (401, 423, 429,
 *   5xx) frees the key instead, so the retry runs.
 * - The same key with another method, path or body is `IDEMPOTENCY_KEY_REUSED` (422).
 * - Answers are kept `KEEP_MS` (a day); `pruneIdempotencyKeys` deletes older rows (hourly,
 *   admin.sweep). Uploads (multipart bodies) and account routes are not covered.
 *
 * The row is written before the answer leaves, so a retry that follows the answer finds it.
 * It is not in the action's transaction: a process killed between the two leaves a claim with
 * no answer, and the retry after `ABANDONED_MS` runs the request again (message sends stay
 * exactly-once by their message id either way).
 */
import { createHash } from 'node:crypto';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type Queryable, schema } from './db/index.js';
import { ApiError } from './errors.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** How long an answer is kept for its key. */
export const KEEP_MS = 24 * 3600_000;
/** How long a claim without an answer holds its key against retries. */
export const ABANDONED_MS = 60_000;
/** Statuses kept as the key's answer; any other frees the key for a retry. */
const KEPT_ERRORS = new Set([400, 403, 404, 409, 413, 415, 422]);
const KEY = /^[\x21-\x7e]{1,255}$/;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The idempotency key this request claimed, if any; its answer is kept on send. */
    idempotency: { appId: string; principal: string; key: string } | null;
  }
}

const t = schema.idempotencyKeys;

export function registerIdempotency(app: FastifyInstance, db: Queryable, clock: () => number): void {
  app.decorateRequest('idempotency', null);

  // After authentication and validation: a request refused for its credentials or its schema
  // claims nothing.
  app.addHook('preHandler', async (req, reply) => {
    const raw = req.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined || !WRITES.has(req.method)) return;
    const caller = req.caller;
    if (!caller || req.headers['content-type']?.startsWith('multipart/')) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (typeof key !== 'string' || !KEY.test(key))
      throw new ApiError('VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    const principal = caller.kind === 'server' ? 'server' : `user:${caller.userId}`;
    const id = { appId: caller.app.id, principal, key };
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.url.split('?')[0]}\n${JSON.stringify(req.body ?? null)}`)
      .digest('base64url');
    const now = clock();
    const at = new Date(now);
    const match = and(eq(t.appId, id.appId), eq(t.principal, principal), eq(t.key, key));

    const claimed =
      (
        await db
          .insert(t)
          .values({ ...id, fingerprint, createdAt: at })
          .onConflictDoNothing()
          .returning({ key: t.key })
      ).length > 0 ||
      // An answer older than a day is forgotten; a claim never answered is abandoned.
      (
        await db
          .update(t)
          .set({ fingerprint, status: null, body: null, createdAt: at })
          .where(
            and(
              match,
              or(
                lt(t.createdAt, new Date(now - KEEP_MS)),
                and(isNull(t.status), lt(t.createdAt, new Date(now - ABANDONED_MS))),
              ),
            ),
          )
          .returning({ key: t.key })
      ).length > 0;
    if (claimed) {
      req.idempotency = id;
      return;
    }
    const [row] = await db.select().from(t).where(match).limit(1);
    if (!row) throw new ApiError('REQUEST_IN_PROGRESS', 'A request with this Idempotency-Key is still being handled');
    if (row.fingerprint !== fingerprint)
      throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request');
    if (row.status === null)
      throw new ApiError('REQUEST_IN_PROGRESS', 'A request with this Idempotency-Key is still being handled');
    return replay(reply, row.status, row.body);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const id = req.idempotency;
    if (!id) return payload;
    req.idempotency = null;
    const match = and(eq(t.appId, id.appId), eq(t.principal, id.principal), eq(t.key, id.key));
    const status = reply.statusCode;
    if ((status >= 200 && status < 300) || KEPT_ERRORS.has(status)) {
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
      await db.update(t).set({ status, body }).where(match);
    } else {
      await db.delete(t).where(match);
    }
    return payload;
  });
}

function replay(reply: FastifyReply, status: number, body: string | null): FastifyReply {
  void reply.header('idempotent-replayed', 'true').status(status);
  if (body === null || body === '') return reply.send();
  return reply.header('content-type', 'application/json; charset=utf-8').send(body);
}

/** Delete answers older than a day (and claims as old). Answers how many went. */
export async function pruneIdempotencyKeys(db: Queryable, now: number): Promise<number> {
  const gone = await db
    .delete(t)
    .where(lt(t.createdAt, new Date(now - KEEP_MS)))
    .returning({ key: t.key });
  return gone.length;
}

/**
 * Ringing invitations: the machinery shared by everything that rings someone and waits for an
 * answer — a call today, a teleport to a space or a knock on a meeting room later.
 *
 *   create (in the owner's transaction) → rings every device of the invitee, on every node
 *   → accept | decline (the first answer wins: a conditional update) | cancel | expire
 *
 * An owner *kind* (`calls`, later `spaces`) owns the thing invited to (`subject_id`) and the
 * events; this module owns the rows, the one-answer rule and the timeout. Expiry is armed
 * twice: a timer on the node that rang (on time to the millisecond) and a durable job on the
 * queue (pg-boss, in the same transaction as the rows) that runs even if that node is gone.
 * Both end up in `expireDue`, which finds what is due in the database, so running twice or on
 * another node changes nothing. Lock order is always the owner's subject first, then its
 * invitations: the kind's `expire` locks its subject and then takes the expired rows.
 */
import { uuidv7 } from '@parley/protocol';
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { type JobKind, jobRef } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';

export type InvitationRow = typeof schema.invitations.$inferSelect;
export type InvitationAnswer = 'accepted' | 'declined';

/** What an owner feature provides: how to expire its subject's due invitations. */
export interface InvitationKind {
  /** `calls`, `spaces.teleport` … (stored in each row). */
  name: string;
  /**
   * Some of `subjectId`'s invitations are due: lock the subject, take them with
   * `takeExpired`, and say so (events after commit). Must be idempotent.
   */
  expire(svc: Services, appId: string, subjectId: string): Promise<void>;
}

const kinds = new Map<string, InvitationKind>();

interface ExpireJob {
  appId: string;
  kind: string;
  subjectId: string;
}
const EXPIRE = jobRef<ExpireJob>('invitations.expire');

/** Register an owner kind (once per process; a second registration replaces the first). */
export function registerInvitationKind(kind: InvitationKind): void {
  kinds.set(kind.name, kind);
}

/** Define the durable expiry job (buildServer, before the queue starts). */
export async function defineInvitationJobs(svc: Services): Promise<void> {
  const job: JobKind<ExpireJob> = {
    name: EXPIRE.name,
    retryLimit: 5,
    retryDelaySeconds: 2,
    expireInSeconds: 60,
    concurrency: 4,
    run: async ({ appId, kind, subjectId }) => {
      await kinds.get(kind)?.expire(svc, appId, subjectId);
    },
  };
  await svc.jobs.define(job);
}

/**
 * Ring `toUserIds` about `subjectId`, in the owner's transaction: one pending row each (a user
 * already invited to the same subject is rung again: the row is reset). Arms the durable
 * expiry job in the same transaction; call `armTimer` after commit for the exact one.
 */
export async function createInvitations(
  svc: Services,
  tx: Queryable,
  p: {
    appId: string;
    kind: string;
    subjectId: string;
    fromUserId: string;
    toUserIds: string[];
    now: Date;
    ttlMs: number;
  },
): Promise<InvitationRow[]> {
  if (p.toUserIds.length === 0) return [];
  const expiresAt = new Date(p.now.getTime() + p.ttlMs);
  const rows = await tx
    .insert(schema.invitations)
    .values(
      p.toUserIds.map((toUserId) => ({
        appId: p.appId,
        id: uuidv7(),
        kind: p.kind,
        subjectId: p.subjectId,
        fromUserId: p.fromUserId,
        toUserId,
        state: 'pending',
        createdAt: p.now,
        expiresAt,
      })),
    )
    .onConflictDoUpdate({
      target: [
        schema.invitations.appId,
        schema.invitations.kind,
        schema.invitations.subjectId,
        schema.invitations.toUserId,
      ],
      set: {
        state: 'pending',
        fromUserId: p.fromUserId,
        createdAt: p.now,
        expiresAt,
        answeredAt: null,
        answeredBy: null,
      },
    })
    .returning();
  // A second behind the due time: the timer normally wins; the job is the backstop.
  await svc.jobs.enqueue(
    tx,
    EXPIRE,
    { appId: p.appId, kind: p.kind, subjectId: p.subjectId },
    { startAfterSeconds: Math.ceil(p.ttlMs / 1000) + 1 },
  );
  return rows;
}

/** Timers armed on this node, by subject, so a subject answered early does not keep one alive. */
const timers = new Map<string, NodeJS.Timeout>();

/** After commit: expire `subjectId`'s invitations when they are due, from this node. */
export function armTimer(svc: Services, appId: string, kind: string, subjectId: string, dueAt: Date): void {
  const key = `${appId}:${kind}:${subjectId}`;
  clearTimeout(timers.get(key));
  // A few ms late rather than early: `takeExpired` compares with the stored expiry.
  const t = setTimeout(
    () => {
      timers.delete(key);
      kinds
        .get(kind)
        ?.expire(svc, appId, subjectId)
        .catch((err: unknown) => svc.log.warn({ err, kind, subjectId }, 'invitation expiry failed; the job retries'));
    },
    Math.max(0, dueAt.getTime() - svc.clock()) + 20,
  );
  t.unref();
  timers.set(key, t);
}

/** Forget this node's timer of a subject that no longer rings (it would find nothing due). */
export function disarmTimer(appId: string, kind: string, subjectId: string): void {
  const key = `${appId}:${kind}:${subjectId}`;
  clearTimeout(timers.get(key));
  timers.delete(key);
}

/**
 * Answer `userId`'s pending invitation to `subjectId` from device `connectionId`. Returns the
 * row, or null when there was none pending (already answered on another device, cancelled or
 * expired): of two devices answering at once, exactly one gets the row.
 */
export async function answerInvitation(
  tx: Queryable,
  p: { appId: string; kind: string; subjectId: string; userId: string; now: Date },
  answer: InvitationAnswer,
  connectionId: string | null,
): Promise<InvitationRow | null> {
  const [row] = await tx
    .update(schema.invitations)
    .set({ state: answer, answeredAt: p.now, answeredBy: connectionId })
    .where(
      and(
        eq(schema.invitations.appId, p.appId),
        eq(schema.invitations.kind, p.kind),
        eq(schema.invitations.subjectId, p.subjectId),
        eq(schema.invitations.toUserId, p.userId),
        eq(schema.invitations.state, 'pending'),
        sql`${schema.invitations.expiresAt} > ${p.now.toISOString()}`,
      ),
    )
    .returning();
  return row ?? null;
}

/** Cancel `subjectId`'s pending invitations (all, or those of `userIds`); returns the rows cancelled. */
export async function cancelInvitations(
  tx: Queryable,
  p: { appId: string; kind: string; subjectId: string; now: Date; userIds?: string[] },
): Promise<InvitationRow[]> {
  const conds = [
    eq(schema.invitations.appId, p.appId),
    eq(schema.invitations.kind, p.kind),
    eq(schema.invitations.subjectId, p.subjectId),
    eq(schema.invitations.state, 'pending'),
  ];
  if (p.userIds) {
    if (p.userIds.length === 0) return [];
    conds.push(inArray(schema.invitations.toUserId, p.userIds));
  }
  return tx
    .update(schema.invitations)
    .set({ state: 'cancelled', answeredAt: p.now })
    .where(and(...conds))
    .returning();
}

/** Inside the kind's `expire` (subject locked): mark its due pending invitations expired; returns them. */
export async function takeExpired(
  tx: Queryable,
  p: { appId: string; kind: string; subjectId: string; now: Date },
): Promise<InvitationRow[]> {
  return tx
    .update(schema.invitations)
    .set({ state: 'expired', answeredAt: p.now })
    .where(
      and(
        eq(schema.invitations.appId, p.appId),
        eq(schema.invitations.kind, p.kind),
        eq(schema.invitations.subjectId, p.subjectId),
        eq(schema.invitations.state, 'pending'),
        lte(schema.invitations.expiresAt, p.now),
      ),
    )
    .returning();
}

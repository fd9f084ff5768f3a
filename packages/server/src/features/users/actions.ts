/** Writes to users: upsert from the embedder's backend, self-service status, first-sight creation. */
import type { SetStatusBody, UpdateMeBody, UserInput } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import { dropReplacedImage, type ImageRow, removeBytes } from '../../platform/storage/pictures.js';
import type { Services } from '../../services.js';
import { actorOfCaller, recordAudit } from '../audit/index.js';
import { CLEAR_STATUS } from './job-names.js';
import { checkName, isNameClash, type NameProblem, nameError, nameProblems } from './names.js';
import { presentUser, type UserRow } from './present.js';
import { announceUserUpdated, profileColumns } from './profile.js';

/** Tell webhook endpoints (only them) that a user's profile or status is now `row`. */
export function userUpdated(out: Outbox, appId: string, row: UserRow): void {
  out.push({
    to: 'webhooks',
    appId,
    userId: row.id,
    event: { type: 'user.updated', user: presentUser(row), created_at: row.updatedAt.toISOString() },
  });
}

/**
 * Users known to exist and not deleted, with when to look again: authenticating a user costs
 * no query within a minute of the last look, and a user deleted on another node is refused
 * there within that minute (on the node that deleted them, at once: `forgetUser`).
 */
const known = new Map<string, number>();
const RECHECK_MS = 60_000;

/**
 * A valid token is the embedder's word that the user exists, so a user seen for the first
 * time is created with their id as name (as Stream's connectUser does). A deleted user's token
 * is refused (`UNAUTHORIZED`), however long it would still be valid.
 */
export async function ensureUser(svc: Services, appId: string, userId: string): Promise<void> {
  const key = `${appId}:${userId}`;
  const now = Date.now();
  if ((known.get(key) ?? 0) > now) return;
  const [row] = await svc.db
    .select({ deletedAt: schema.users.deletedAt })
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  if (row?.deletedAt) {
    known.delete(key);
    throw new ApiError('UNAUTHORIZED', 'This user was deleted');
  }
  if (!row) await svc.db.insert(schema.users).values({ appId, id: userId, name: userId }).onConflictDoNothing();
  if (known.size > 200_000) known.clear();
  known.set(key, now + RECHECK_MS);
}

/** A user was deleted: this node stops taking their token now (others within `RECHECK_MS`). */
export function forgetUser(appId: string, userId: string): void {
  known.delete(`${appId}:${userId}`);
}

/**
 * The error for usernames of an upsert that cannot be had, each with its user: the whole batch
 * is refused (one transaction), so the caller fixes those and sends it again. VALIDATION_ERROR
 * when one is reserved, else CONFLICT; `details.users` lists every one.
 */
function usernamesError(inputs: UserInput[], problems: NameProblem[]): ApiError {
  const users = problems.map((p) => ({
    id: inputs.find((u) => u.username === p.name)?.id,
    username: p.name,
    reason: p.reason,
    ...(p.held_by ? { held_by: p.held_by } : {}),
  }));
  const said = users
    .map((u) => `@${u.username} for ${u.id} (${u.reason === 'reserved' ? 'reserved' : `a ${u.held_by}'s`})`)
    .join(', ');
  return new ApiError(
    problems.some((p) => p.reason === 'reserved') ? 'VALIDATION_ERROR' : 'CONFLICT',
    `These usernames cannot be had, so no user was saved: ${said}`,
    { field: 'username', users },
  );
}

/**
 * Insert or update users (server only), all or none. A username is one @name of the app: not a
 * mention keyword, nor another user's username or a user group's handle, any case (names.ts).
 */
export async function upsertUsers(svc: Services, caller: Caller, inputs: UserInput[]) {
  const ids = new Set<string>();
  for (const u of inputs) {
    if (ids.has(u.id)) throw new ApiError('VALIDATION_ERROR', `User ${u.id} appears twice`);
    ids.add(u.id);
  }
  const names = inputs.map((u) => u.username?.toLowerCase()).filter((n): n is string => !!n);
  if (new Set(names).size !== names.length)
    throw new ApiError('VALIDATION_ERROR', 'Two users in one request share a username');
  const wanted = inputs.flatMap((u) => (u.username ? [{ name: u.username, owner: { user: u.id } }] : []));
  const problems = await nameProblems(svc.db, caller.app.id, wanted);
  if (problems.length) throw usernamesError(inputs, problems);
  const now = new Date();
  try {
    const rows = await withTransaction(svc, async (tx, outbox) => {
      const out: UserRow[] = [];
      // Those that exist, as they were: role changes go in the audit log, and webhook
      // endpoints hear of each profile that changed (`user.updated`; not of new users).
      const before = new Map(
        (
          await tx
            .select({
              id: schema.users.id,
              name: schema.users.name,
              username: schema.users.username,
              image: schema.users.image,
              role: schema.users.role,
              updatedAt: schema.users.updatedAt,
            })
            .from(schema.users)
            .where(
              and(
                eq(schema.users.appId, caller.app.id),
                inArray(
                  schema.users.id,
                  inputs.map((u) => u.id),
                ),
              ),
            )
        ).map((r) => [r.id, r]),
      );
      for (const u of inputs) {
        const set: Partial<typeof schema.users.$inferInsert> = { updatedAt: now };
        if (u.name !== undefined) set.name = u.name;
        if (u.username !== undefined) set.username = u.username;
        if (u.image !== undefined) {
          set.image = u.image;
          // A picture set by URL is not the uploaded one: its placeholder goes, unless unchanged.
          (set as Record<string, unknown>).imageBlurhash =
            sql`case when ${schema.users.image} is not distinct from ${u.image} then ${schema.users.imageBlurhash} end`;
        }
        if (u.role !== undefined) set.role = u.role;
        const profile = profileColumns(u);
        Object.assign(set, profile);
        const [row] = await tx
          .insert(schema.users)
          .values({
            appId: caller.app.id,
            id: u.id,
            name: u.name ?? u.id,
            username: u.username ?? null,
            image: u.image ?? null,
            role: u.role ?? 'user',
            ...profile,
          })
          .onConflictDoUpdate({ target: [schema.users.appId, schema.users.id], set })
          .returning();
        out.push(row as UserRow);
        const prev = before.get(u.id);
        const was = prev?.role;
        const r = row as UserRow;
        if (
          prev &&
          (prev.name !== r.name ||
            prev.username !== r.username ||
            prev.image !== r.image ||
            prev.role !== r.role ||
            Object.keys(profile).length > 0)
        ) {
          userUpdated(outbox, caller.app.id, r);
          await announceUserUpdated(tx, outbox, caller.app.id, r);
        }
        if (u.role !== undefined && was !== undefined && was !== u.role)
          await recordAudit(tx, {
            appId: caller.app.id,
            actor: actorOfCaller(caller),
            action: 'user.role_changed',
            target: { kind: 'user', id: u.id },
            details: { from: was, to: u.role },
          });
      }
      return out;
    });
    for (const r of rows) if (!r.deletedAt) known.set(`${caller.app.id}:${r.id}`, Date.now() + RECHECK_MS);
    const states = await svc.presence.statesOf(
      caller.app.id,
      rows.map((r) => r.id),
    );
    return rows.map((r) => presentUser(r, states.get(r.id)));
  } catch (err) {
    // Taken between the check and the write, by another transaction: say which, as the check would.
    if (isNameClash(err)) {
      const late = await nameProblems(svc.db, caller.app.id, wanted);
      throw late.length
        ? usernamesError(inputs, late)
        : new ApiError('CONFLICT', 'A username is already taken in this app');
    }
    throw err;
  }
}

/** Set or clear the caller's custom status; shown to users who share a channel. */
export async function setStatus(svc: Services, caller: Caller & { kind: 'user' }, body: SetStatusBody) {
  const expires = body.text === null || !body.expires_at ? null : new Date(body.expires_at);
  if (expires && expires.getTime() <= svc.clock()) throw new ApiError('VALIDATION_ERROR', 'expires_at has passed');
  const row = await withTransaction(svc, async (tx, out) => {
    const [r] = await tx
      .update(schema.users)
      .set({
        statusText: body.text,
        statusEmoji: body.text === null ? null : (body.emoji ?? null),
        statusExpiresAt: expires,
        updatedAt: sql`now()`,
      })
      .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, caller.userId)))
      .returning();
    if (!r) throw new ApiError('NOT_FOUND', 'User not found');
    userUpdated(out, caller.app.id, r);
    await announceUserUpdated(tx, out, caller.app.id, r);
    // Cleared when its time is up by a job, which tells who shares a channel (presence.changed).
    if (expires)
      await svc.jobs.enqueue(
        tx,
        CLEAR_STATUS,
        { appId: caller.app.id, userId: caller.userId, expiresAt: expires.toISOString() },
        // At the instant itself: whole seconds, rounded up, cleared it up to a second late.
        { startAt: expires },
      );
    return r;
  });
  await svc.presence.announce(caller.app.id, row);
  for (const l of statusListeners)
    l(svc, caller.app.id, row).catch((err: unknown) => svc.log.warn({ err }, 'a status listener failed'));
  return presentUser(row, (await svc.presence.statesOf(caller.app.id, [row.id])).get(row.id));
}

type StatusListener = (svc: Services, appId: string, user: UserRow) => Promise<void>;
const statusListeners: StatusListener[] = [];

/**
 * Be told, after commit, that a user set or cleared their custom status themselves (the
 * office's rooms say so: spaces/notes.ts). Outside the status's transaction, so a listener's
 * own locks are never taken while it is open; an expiry (the job) is not a change they made.
 */
export function onStatusChange(listener: StatusListener): void {
  statusListeners.push(listener);
}

/**
 * Change the caller's own name, username, image or profile fields (only the fields sent).
 * A username is one @name of the app (names.ts): another user's username or a user group's
 * handle, any case, is 409 CONFLICT; a reserved one is 400. Users who share a channel with the caller get `user.updated`, and the
 * caller's presence followers `presence.changed`, with the new profile.
 */
export async function updateMe(svc: Services, caller: Caller & { kind: 'user' }, body: UpdateMeBody) {
  const set: Partial<typeof schema.users.$inferInsert> = { updatedAt: new Date() };
  if (body.name !== undefined) {
    const name = body.name.trim();
    if (!name) throw new ApiError('VALIDATION_ERROR', 'A name cannot be blank');
    set.name = name;
  }
  if (body.username !== undefined) {
    if (body.username !== null)
      await checkName(svc.db, caller.app.id, 'username', body.username, { user: caller.userId, chosen: true });
    set.username = body.username;
  }
  if (body.image !== undefined) {
    set.image = body.image;
    (set as Record<string, unknown>).imageBlurhash =
      sql`case when ${schema.users.image} is not distinct from ${body.image} then ${schema.users.imageBlurhash} end`;
  }
  Object.assign(set, profileColumns(body));
  let row: UserRow | undefined;
  let dropped: ImageRow | null = null;
  try {
    row = await withTransaction(svc, async (tx, out) => {
      if (body.image !== undefined)
        dropped = await dropReplacedImage(tx, caller.app.id, { kind: 'user', id: caller.userId }, body.image);
      const [r] = await tx
        .update(schema.users)
        .set(set)
        .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, caller.userId)))
        .returning();
      if (r) {
        userUpdated(out, caller.app.id, r);
        await announceUserUpdated(tx, out, caller.app.id, r);
      }
      return r;
    });
  } catch (err) {
    if (isNameClash(err) && body.username) {
      // Taken between the check and the write: say by what, as the check would have.
      const [late] = await nameProblems(svc.db, caller.app.id, [
        { name: body.username, owner: { user: caller.userId, chosen: true } },
      ]);
      throw nameError('username', late ?? { name: body.username, reason: 'taken' });
    }
    throw err;
  }
  if (dropped) await removeBytes(svc, dropped);
  if (!row) throw new ApiError('NOT_FOUND', 'User not found');
  await svc.presence.announce(caller.app.id, row);
  return presentUser(row, (await svc.presence.statesOf(caller.app.id, [row.id])).get(row.id));
}

/**
 * Moderation writes: bans (in a channel or app-wide, with a reason and an optional expiry),
 * flags (reports) and their review, and an app's permission overrides and automod settings.
 * Each is one transaction with its events published after commit; each calls
 * `recordModeration` (audit.ts), the single place the audit log will hook in.
 *
 * Who moderates: in a channel, whoever has `ban-members` there (channel moderators and up,
 * app moderators and admins, the server token); app-wide and the moderation queue, app
 * moderators and admins (app roles) and the server token.
 */
import type { AutomodSettings, Ban, BanBody, FlagBody, PermissionOverrides, ReviewFlagBody } from '@parley/protocol';
import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import { checkRate } from '../../platform/limits.js';
import type { Services } from '../../services.js';
import { accessChannelRead, RANK, rankOf, removeMembers } from '../channels/index.js';
import { checkCan, checkOverrides, effectiveTable } from '../permissions/index.js';
import { recordModeration } from './audit.js';
import { checkAutomodSettings, DEFAULT_AUTOMOD } from './automod.js';
import { type FlagRow, insertFlag, presentFlag, toModerators } from './flags.js';
import { LIFT_BAN } from './job-names.js';

type BanRow = typeof schema.bans.$inferSelect;

export function presentBan(r: BanRow): Ban {
  return {
    user_id: r.userId,
    cid: r.cid || null,
    reason: r.reason,
    banned_by: r.bannedBy,
    created_at: r.createdAt.toISOString(),
    expires_at: r.expiresAt?.toISOString() ?? null,
    shadow: r.shadow,
  };
}

async function userRow(q: Queryable, appId: string, userId: string) {
  const [u] = await q
    .select()
    .from(schema.users)
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)))
    .limit(1);
  return u ?? null;
}

/** The caller's app-wide power: the server token and app admins 3, app moderators 1, others -1. */
async function appRank(q: Queryable, caller: Caller): Promise<number> {
  if (caller.kind === 'server') return RANK.owner;
  const u = await userRow(q, caller.app.id, caller.userId);
  return rankOf(caller, null, u?.role ?? null);
}

/** App moderators, app admins and the server token; FORBIDDEN for anyone else. */
export async function checkAppModerator(q: Queryable, caller: Caller): Promise<number> {
  const r = await appRank(q, caller);
  if (r < RANK.moderator) throw forbidden('Only app moderators and admins can do this');
  return r;
}

/** Only app admins and the server token. */
async function checkAppAdmin(q: Queryable, caller: Caller): Promise<void> {
  if ((await appRank(q, caller)) < RANK.owner) throw forbidden('Only app admins can do this');
}

/**
 * Ban a user in a channel (they leave it and cannot come back) or app-wide (no posting,
 * joining or sockets anywhere in the app; their open sockets close with 4503 on every node).
 * A timed ban lifts by itself through the job queue. Banning again replaces reason and expiry.
 *
 * `shadow` (app moderators and admins, the server token, in a channel or app-wide): the user
 * is not removed and not told (no `user.banned` to them; moderators hear of it), and goes on
 * posting; their new messages are stored shadowed (moderation/shadow.ts).
 */
export async function banUser(svc: Services, caller: Caller, body: BanBody): Promise<{ ban: Ban }> {
  const appId = caller.app.id;
  if (caller.userId === body.user_id) throw invalid('You cannot ban yourself');
  const cid = body.cid ?? '';
  const at = new Date(svc.clock());
  const expiresAt = body.timeout_s ? new Date(at.getTime() + body.timeout_s * 1000) : null;
  const shadow = body.shadow === true;
  if (shadow && body.cid) throw invalid('A shadow ban is app-wide: leave out cid');
  const ban = await withTransaction(svc, async (tx, out) => {
    const target = await userRow(tx, appId, body.user_id);
    if (!target) throw notFound('User');
    // Shadow bans are app moderators' (a channel moderator could otherwise hide a member quietly).
    if (shadow) {
      const mine = await checkAppModerator(tx, caller);
      if (rankOf(caller, null, target.role) >= mine && caller.kind === 'user')
        throw forbidden(`Not allowed to ban ${target.id}: their role is not below yours`);
    }
    if (cid) {
      const a = await accessChannelRead(tx, caller, cid, true);
      checkCan(a, 'ban-members', svc.clock());
      if (caller.kind === 'user') {
        const [m] = await tx
          .select()
          .from(schema.members)
          .where(
            and(eq(schema.members.appId, appId), eq(schema.members.cid, cid), eq(schema.members.userId, target.id)),
          )
          .limit(1);
        if (rankOf(caller, m ?? null, target.role) >= a.rank)
          throw forbidden(`Not allowed to ban ${target.id}: their role is not below yours`);
      }
    } else {
      const mine = await checkAppModerator(tx, caller);
      if (rankOf(caller, null, target.role) >= mine && caller.kind === 'user')
        throw forbidden(`Not allowed to ban ${target.id}: their role is not below yours`);
    }
    const values = {
      appId,
      userId: target.id,
      cid,
      reason: body.reason ?? null,
      bannedBy: caller.userId,
      createdAt: at,
      expiresAt,
      shadow,
    };
    const [row] = await tx
      .insert(schema.bans)
      .values(values)
      .onConflictDoUpdate({
        target: [schema.bans.appId, schema.bans.userId, schema.bans.cid],
        set: { reason: values.reason, bannedBy: values.bannedBy, createdAt: at, expiresAt, shadow },
      })
      .returning();
    // A shadow ban blocks nothing: the app-wide mirror (sockets, joins) is for real bans only
    // (a real ban turned into a shadow one lifts it).
    if (!cid)
      await tx
        .update(schema.users)
        .set(
          shadow
            ? { bannedAt: null, banExpiresAt: null, shadowBanned: true }
            : { bannedAt: at, banExpiresAt: expiresAt, shadowBanned: false },
        )
        .where(and(eq(schema.users.appId, appId), eq(schema.users.id, target.id)));
    if (expiresAt)
      await svc.jobs.enqueue(
        tx,
        LIFT_BAN,
        { appId, userId: target.id, cid, expiresAt: expiresAt.toISOString() },
        { startAfterSeconds: Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000)) },
      );
    const presented = presentBan(row as BanRow);
    const event = { type: 'user.banned' as const, user_id: target.id, ban: presented, created_at: at.toISOString() };
    // To the banned user (an app-wide ban closes their sockets: realtime/gateway.ts) and to
    // the moderators; after commit, so no one hears of a ban that did not happen.
    // A shadow-banned user is not told (they must see no difference); the app's backend is.
    if (!shadow) out.push({ to: 'user', appId, userId: target.id, event });
    out.push({ to: 'webhooks', appId, userId: target.id, event });
    await toModerators(tx, out, appId, event);
    if (caller.userId && !out.some((o) => o.to === 'user' && o.userId === caller.userId))
      out.push({ to: 'user', appId, userId: caller.userId, event });
    await recordModeration(
      tx,
      caller,
      shadow ? 'shadow.ban' : 'ban',
      { userId: presented.user_id, cid: presented.cid },
      { reason: presented.reason, expires_at: presented.expires_at },
    );
    return presented;
  });
  // A channel ban takes the member out (member.removed, logged in the channel's seq order).
  if (cid && !shadow) await removeMembers(svc, { kind: 'server', app: caller.app, userId: null }, cid, [ban.user_id]);
  return { ban };
}

/** Lift a ban now (moderators); NOT_FOUND when there is none. */
export async function unbanUser(svc: Services, caller: Caller, userId: string, cid?: string): Promise<{ ban: Ban }> {
  const appId = caller.app.id;
  const ban = await withTransaction(svc, async (tx, out) => {
    if (cid) checkCan(await accessChannelRead(tx, caller, cid), 'ban-members', svc.clock());
    else await checkAppModerator(tx, caller);
    const lifted = await liftBan(tx, appId, userId, cid ?? '');
    if (lifted) {
      await recordModeration(tx, caller, 'unban', { userId, cid: cid ?? null });
      unbanned(out, appId, lifted);
    }
    return lifted;
  });
  if (!ban) throw notFound('Ban');
  return { ban: presentBan(ban) };
}

/** Tell webhook endpoints (only them) that a ban was lifted. */
export function unbanned(out: Outbox, appId: string, row: BanRow): void {
  const ban = presentBan(row);
  out.push({
    to: 'webhooks',
    appId,
    userId: ban.user_id,
    event: { type: 'user.unbanned', user_id: ban.user_id, ban, created_at: new Date().toISOString() },
  });
}

/** Delete a ban row (and the user's app-ban mirror); `expiresAt` set: only if it still ends then. */
export async function liftBan(q: Queryable, appId: string, userId: string, cid: string, expiresAt?: Date) {
  const [gone] = await q
    .delete(schema.bans)
    .where(
      and(
        eq(schema.bans.appId, appId),
        eq(schema.bans.userId, userId),
        eq(schema.bans.cid, cid),
        expiresAt ? lt(schema.bans.expiresAt, new Date(expiresAt.getTime() + 1)) : undefined,
      ),
    )
    .returning();
  if (gone && !cid)
    await q
      .update(schema.users)
      .set({ bannedAt: null, banExpiresAt: null, shadowBanned: false })
      .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)));
  return gone ?? null;
}

/** Standing bans: of a channel (its moderators), or every ban of the app (app moderators). */
export async function listBans(svc: Services, caller: Caller, cid?: string, limit = 100): Promise<{ bans: Ban[] }> {
  const appId = caller.app.id;
  if (cid) checkCan(await accessChannelRead(svc.db, caller, cid), 'ban-members', svc.clock());
  else await checkAppModerator(svc.db, caller);
  const rows = await svc.db
    .select()
    .from(schema.bans)
    .where(
      and(
        eq(schema.bans.appId, appId),
        cid ? eq(schema.bans.cid, cid) : undefined,
        or(isNull(schema.bans.expiresAt), gt(schema.bans.expiresAt, new Date(svc.clock()))),
      ),
    )
    .orderBy(desc(schema.bans.createdAt))
    .limit(limit);
  return { bans: rows.map(presentBan) };
}

/** Report a message (one the caller can read) or a user, with a reason. */
export async function flagContent(svc: Services, caller: Caller, body: FlagBody) {
  const appId = caller.app.id;
  if (!body.message_id === !body.user_id) throw invalid('Flag either a message_id or a user_id');
  await checkRate(svc, 'flags', appId, caller.userId);
  const out: Outbox = [];
  let row: FlagRow;
  if (body.message_id) {
    const a = await svc.accessMessage(svc.db, caller, body.message_id);
    checkCan(a, 'flag-message', svc.clock());
    if (a.message.type !== 'regular') throw invalid(`A ${a.message.type} message cannot be flagged`);
    if (a.message.userId === caller.userId) throw invalid('You cannot flag your own message');
    row = await insertFlag(svc.db, out, appId, {
      messageId: a.message.id,
      cid: a.message.cid,
      userId: a.message.userId,
      reportedBy: caller.userId,
      reason: body.reason,
      text: a.message.text,
    });
  } else {
    const target = await userRow(svc.db, appId, body.user_id as string);
    if (!target) throw notFound('User');
    if (target.id === caller.userId) throw invalid('You cannot flag yourself');
    row = await insertFlag(svc.db, out, appId, {
      messageId: null,
      cid: null,
      userId: target.id,
      reportedBy: caller.userId,
      reason: body.reason,
      text: null,
    });
  }
  svc.bus.publish(out);
  return { flag: presentFlag(row) };
}

/** The moderation queue, newest first, keyset-paged (`next`). */
export async function listFlags(
  svc: Services,
  caller: Caller,
  q: { status?: string | undefined; limit?: number | undefined; cursor?: string | undefined },
) {
  await checkAppModerator(svc.db, caller);
  const limit = q.limit ?? 50;
  let cur: { t: string; id: string } | null = null;
  if (q.cursor) {
    try {
      cur = JSON.parse(Buffer.from(q.cursor, 'base64url').toString()) as { t: string; id: string };
      if (typeof cur.t !== 'string' || typeof cur.id !== 'string' || Number.isNaN(Date.parse(cur.t))) throw new Error();
      if (!/^[0-9a-f-]{36}$/.test(cur.id)) throw new Error();
    } catch {
      throw invalid('cursor is not one this server made');
    }
  }
  const rows = await svc.db
    .select()
    .from(schema.moderationFlags)
    .where(
      and(
        eq(schema.moderationFlags.appId, caller.app.id),
        eq(schema.moderationFlags.status, q.status ?? 'open'),
        cur
          ? sql`(${schema.moderationFlags.createdAt}, ${schema.moderationFlags.id}) < (${cur.t}::timestamptz, ${cur.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(schema.moderationFlags.createdAt), desc(schema.moderationFlags.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    flags: page.map(presentFlag),
    ...(rows.length > limit && last
      ? { next: Buffer.from(JSON.stringify({ t: last.createdAt.toISOString(), id: last.id })).toString('base64url') }
      : {}),
  };
}

/**
 * Review a flag: `remove` deletes the flagged message, `ban` bans its author (app-wide unless
 * `ban.cid`) and deletes the message, `dismiss` closes it. Every open flag on the same message
 * (or the same user, for user reports) closes with it, and each reporter gets `flag.reviewed`.
 */
export async function reviewFlag(svc: Services, caller: Caller, id: string, body: ReviewFlagBody) {
  const appId = caller.app.id;
  await checkAppModerator(svc.db, caller);
  const [flag] = await svc.db
    .select()
    .from(schema.moderationFlags)
    .where(and(eq(schema.moderationFlags.appId, appId), eq(schema.moderationFlags.id, id)))
    .limit(1);
  if (!flag) throw notFound('Flag');
  if (flag.status !== 'open') throw new ApiError('CONFLICT', `This flag was already reviewed (${flag.status})`);
  if (body.ban && body.action !== 'ban') throw invalid('ban options go with action "ban"');
  if (body.action === 'ban')
    await banUser(svc, caller, {
      user_id: flag.userId,
      ...(body.ban?.cid ? { cid: body.ban.cid } : {}),
      reason: body.ban?.reason ?? flag.reason,
      ...(body.ban?.timeout_s ? { timeout_s: body.ban.timeout_s } : {}),
    });
  if ((body.action === 'remove' || body.action === 'ban') && flag.messageId) {
    // Removed with the server's power: the reviewer is an app moderator, who may anyway.
    await svc.deleteMessage(svc, { kind: 'server', app: caller.app, userId: null }, flag.messageId).catch((err) => {
      if (!(err instanceof ApiError && err.code === 'NOT_FOUND')) throw err;
    });
  }
  const status = body.action === 'remove' ? 'removed' : body.action === 'ban' ? 'banned' : 'dismissed';
  const at = new Date(svc.clock());
  const reviewed = await withTransaction(svc, async (tx, out) => {
    const rows = await tx
      .update(schema.moderationFlags)
      .set({ status, reviewedBy: caller.userId, reviewedAt: at })
      .where(
        and(
          eq(schema.moderationFlags.appId, appId),
          eq(schema.moderationFlags.status, 'open'),
          flag.messageId
            ? eq(schema.moderationFlags.messageId, flag.messageId)
            : and(eq(schema.moderationFlags.userId, flag.userId), isNull(schema.moderationFlags.messageId)),
        ),
      )
      .returning();
    for (const r of rows)
      if (r.reportedBy)
        out.push({
          to: 'user',
          appId,
          userId: r.reportedBy,
          event: { type: 'flag.reviewed', flag: presentFlag(r), created_at: at.toISOString() },
        });
    await recordModeration(
      tx,
      caller,
      'flag.review',
      { flagId: id, userId: flag.userId, cid: flag.cid },
      { action: body.action },
    );
    return rows.find((r) => r.id === id) ?? { ...flag, status, reviewedBy: caller.userId, reviewedAt: at };
  });
  return { flag: presentFlag(reviewed) };
}

/** An app's permission overrides and the effective table (app admins, the server token, the admin token). */
export async function getPermissions(svc: Services, appId: string) {
  const m = await svc.apps.moderationOf(appId);
  if (!m) throw notFound('App');
  return { overrides: m.permissions, effective: effectiveTable(m.permissions) };
}

export async function setPermissions(svc: Services, appId: string, overrides: PermissionOverrides) {
  checkOverrides(overrides);
  const m = await svc.apps.setModeration(appId, { permissions: overrides });
  if (!m) throw notFound('App');
  return { overrides: m.permissions, effective: effectiveTable(m.permissions) };
}

export async function getAutomod(svc: Services, caller: Caller) {
  await checkAppModerator(svc.db, caller);
  const m = await svc.apps.moderationOf(caller.app.id);
  return { automod: m?.automod ?? DEFAULT_AUTOMOD };
}

export async function setAutomod(svc: Services, caller: Caller, automod: AutomodSettings) {
  await checkAppAdmin(svc.db, caller);
  checkAutomodSettings(automod);
  const m = await svc.apps.setModeration(caller.app.id, { automod });
  await recordModeration(svc.db, caller, 'automod.update', {}, { automod });
  return { automod: m?.automod ?? automod };
}

export { checkAppAdmin };

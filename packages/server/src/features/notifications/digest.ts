/**
 * The email digest: mentions and DMs a user has left unread for `digestAfterMinutes` go out
 * in one mail, with a one-click unsubscribe link (RFC 8058) signed by the server.
 *
 * A mention or DM for a user who can get mail (a workspace member, whose account has the
 * address) arms one `notifications.digest` job per user (a singleton: a burst of mentions is
 * one mail) due `digestAfterMinutes` later. When it runs it gathers what is still unread and
 * newer than the last digest, and once the oldest of it has waited long enough, mails all of
 * it. A user connected right now is asked again later rather than mailed about what they may
 * be reading.
 */

import { sql } from 'drizzle-orm';
import { rows, schema } from '../../platform/db/index.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import type { Mail } from '../../platform/mailer.js';
import type { Services } from '../../services.js';
import { publicUrl } from '../accounts/index.js';
import { DIGEST, type DigestJob } from './job-names.js';
import { settingsRow } from './settings.js';

const MAX_ITEMS = 30;

/** Arm the user's digest (no-op when one is already due). */
export async function queueDigest(svc: Services, appId: string, userId: string, afterSeconds?: number): Promise<void> {
  await svc.jobs.enqueue(
    svc.db,
    DIGEST,
    { appId, userId },
    {
      startAfterSeconds: Math.max(1, afterSeconds ?? svc.config.digestAfterMinutes * 60),
      singletonKey: `${appId}:${userId}`,
    },
  );
}

// ---- unsubscribe tokens ---------------------------------------------------------------------

/** A token that turns the digest off for one user: their ids and the server's MAC over them. */
export function unsubscribeToken(svc: Services, appId: string, userId: string): string {
  const mac = svc.sealer.mac('digest-unsubscribe', appId, userId).subarray(0, 18).toString('base64url');
  return `${Buffer.from(appId).toString('base64url')}.${Buffer.from(userId).toString('base64url')}.${mac}`;
}

/** The user a token names, or null when it is not one this server made. */
export function readUnsubscribeToken(svc: Services, token: string): { appId: string; userId: string } | null {
  const [a, u, mac] = token.split('.');
  if (!a || !u || !mac) return null;
  const appId = Buffer.from(a, 'base64url').toString('utf8');
  const userId = Buffer.from(u, 'base64url').toString('utf8');
  const want = svc.sealer.mac('digest-unsubscribe', appId, userId).subarray(0, 18).toString('base64url');
  if (want.length !== mac.length) return null;
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff |= want.charCodeAt(i) ^ mac.charCodeAt(i);
  return diff === 0 ? { appId, userId } : null;
}

export function unsubscribeUrl(svc: Services, appId: string, userId: string): string {
  return `${publicUrl(svc.config)}/v1/notifications/unsubscribe?token=${unsubscribeToken(svc, appId, userId)}`;
}

/** Turn the digest off (what the unsubscribe link does). */
export async function unsubscribeDigest(svc: Services, appId: string, userId: string): Promise<void> {
  await svc.db
    .insert(schema.notificationSettings)
    .values({ appId, userId, emailDigest: false })
    .onConflictDoUpdate({
      target: [schema.notificationSettings.appId, schema.notificationSettings.userId],
      set: { emailDigest: false, updatedAt: new Date() },
    });
}

// ---- the job --------------------------------------------------------------------------------

interface Item {
  id: string;
  cid: string;
  text: string;
  parent_id: string | null;
  created_at: Date | string;
  author: string | null;
  channel_type: string;
  channel_name: string | null;
}

function digestMail(svc: Services, to: string, appId: string, userId: string, items: Item[]): Mail {
  const base = publicUrl(svc.config);
  const lines: string[] = [];
  const byChannel = new Map<string, Item[]>();
  for (const it of items) byChannel.set(it.cid, [...(byChannel.get(it.cid) ?? []), it]);
  for (const [cid, list] of byChannel) {
    const first = list[0] as Item;
    const where =
      first.channel_type === 'dm'
        ? `Direct message from ${first.author ?? 'someone'}`
        : `#${first.channel_name ?? cid}`;
    lines.push(where);
    for (const it of list) {
      const text = it.text.length > 300 ? `${it.text.slice(0, 299)}…` : it.text;
      lines.push(`  ${it.author ?? 'someone'}: ${text.replace(/\s+/g, ' ')}`);
    }
    lines.push(`  Open: ${base}/w/${appId}/c/${cid}`, '');
  }
  const unsub = unsubscribeUrl(svc, appId, userId);
  const n = items.length;
  return {
    to,
    subject: `You have ${n} unread ${n === 1 ? 'message' : 'messages'} in Parley`,
    text: [
      `While you were away, people mentioned you or wrote to you directly (${n} unread):`,
      '',
      ...lines,
      'You get this mail for mentions and direct messages left unread for a while.',
      `Stop these mails: ${unsub}`,
    ].join('\n'),
    headers: { 'List-Unsubscribe': `<${unsub}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}

async function runDigest(svc: Services, { appId, userId }: DigestJob): Promise<void> {
  const settings = await settingsRow(svc.db, appId, userId);
  if (!settings.emailDigest || settings.level === 'none') return;
  const [account] = await rows<{ email: string }>(
    svc.db,
    sql`select a.email from ${schema.workspaceMembers} w join ${schema.accounts} a on a.id = w.account_id
      where w.app_id = ${appId} and w.user_id = ${userId} and w.deactivated_at is null`,
  );
  if (!account) return;
  const since = settings.lastDigestAt ?? new Date(0);
  const found = await rows<Item>(
    svc.db,
    sql`select x.id, x.cid, x.text, x.parent_id, x.created_at, u.name as author,
        c.type as channel_type, c.name as channel_name
      from ${schema.members} m
      join ${schema.channels} c on c.app_id = m.app_id and c.cid = m.cid
      join ${schema.messages} x on x.app_id = m.app_id and x.cid = m.cid and x.seq > m.last_read_seq
        and x.user_id <> m.user_id and x.type = 'regular' and x.deleted_at is null and not x.shadowed
      left join ${schema.users} u on u.app_id = x.app_id and u.id = x.user_id
      left join ${schema.channelNotificationSettings} o on o.app_id = m.app_id and o.user_id = m.user_id and o.cid = m.cid
      where m.app_id = ${appId} and m.user_id = ${userId} and not m.muted and coalesce(o.level, '') <> 'none'
        and x.created_at > ${since}
        and (c.type = 'dm' or x.mentioned_channel or exists (select 1 from ${schema.userMessageFlags} f
          where f.app_id = x.app_id and f.user_id = m.user_id and f.message_id = x.id and f.mentioned))
      order by x.created_at
      limit ${MAX_ITEMS + 1}`,
  );
  if (found.length === 0) return;
  const afterMs = svc.config.digestAfterMinutes * 60_000;
  const now = svc.clock();
  const first = new Date((found[0] as Item).created_at).getTime();
  if (first > now - afterMs + 1000) {
    // Not waited long enough yet (a later mention armed this one): ask again when it has.
    await queueDigest(svc, appId, userId, Math.ceil((first + afterMs - now) / 1000));
    return;
  }
  if ((await svc.presence.present(appId, [userId])).length > 0) {
    // Here now: they may well be reading it. Ask again after another wait.
    await queueDigest(svc, appId, userId);
    return;
  }
  // The oldest has waited long enough: the mail takes everything unread so far, not just what
  // is as old, so a burst of mentions is one mail rather than one now and one a moment later.
  const items = found.slice(0, MAX_ITEMS);
  await svc.mailer.sendMail(digestMail(svc, account.email, appId, userId, items));
  const last = new Date((items.at(-1) as Item).created_at);
  await svc.db
    .insert(schema.notificationSettings)
    .values({ appId, userId, lastDigestAt: last })
    .onConflictDoUpdate({
      target: [schema.notificationSettings.appId, schema.notificationSettings.userId],
      set: { lastDigestAt: last },
    });
  // More than fit in one mail: the rest in the next, after another wait.
  if (found.length > items.length) await queueDigest(svc, appId, userId);
}

export async function defineDigestJob(svc: Services): Promise<void> {
  const kind: JobKind<DigestJob> = {
    name: DIGEST.name,
    policy: 'short',
    retryLimit: 5,
    retryDelaySeconds: 30,
    expireInSeconds: 120,
    concurrency: 1,
    run: (data) => runDigest(svc, data),
  };
  await svc.jobs.define(kind);
}

/**
 * The push path. `notifications.message` (enqueued by trigger.ts after a send commits) reads,
 * in one query per message, every other member of the channel with their preferences, their
 * override, whether the message mentions them, whether they have anywhere to be pushed, and
 * their last push of the same thread burst; asks presence who is connected anywhere now; and
 * lets `decidePush` (decide.ts) say push, later or skip for each. "Later" is a
 * `notifications.deliver` job after the grace period, which looks again and pushes only if
 * the message is still unread. Mentions and DMs also arm the user's email digest (digest.ts).
 *
 * A push carries the server's unread count as the badge and a collapse key per thread (per
 * channel outside threads), so a device shows one notification per conversation; a push
 * service or provider that says a subscription or device token is gone has it dropped.
 */
import { createHash } from 'node:crypto';
import type { PushPayload } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { hotStatement, schema } from '../../platform/db/index.js';
import type { JobKind } from '../../platform/jobs/queue.js';
import type { NativePush } from '../../platform/push/native.js';
import { loadVapidKeys, sendWebPush, type VapidKeys } from '../../platform/push/web-push.js';
import type { Services } from '../../services.js';
import { collapseKeyOf, type DecideOptions, decidePush, type PushReason, reasonOf } from './decide.js';
import { defineDigestJob, queueDigest } from './digest.js';
import { defineDndEndJobs } from './dnd-end.js';
import { pushableEndpoint, pushLookup } from './endpoints.js';
import { DELIVER, type DeliverJob, NOTIFY, type NotifyJob, PUSH, type PushJob, type PushTarget } from './job-names.js';
import { nativeSenders } from './targets.js';

interface Candidate {
  user_id: string;
  muted: boolean;
  last_read_seq: number | string;
  level: string | null;
  time_zone: string | null;
  dnd_until: Date | string | null;
  dnd_schedule: { start: string; end: string; days?: number[] } | null;
  email_digest: boolean | null;
  channel_level: string | null;
  flagged: boolean;
  has_push: boolean;
  has_email: boolean;
  burst_at: Date | string | null;
}

/** Pushes of one message that go out at once. */
const PUSHES_AT_ONCE = 8;

const asDate = (v: Date | string | null) => (v === null ? null : v instanceof Date ? v : new Date(v));

/** A short stable id for a collapse key: Web Push topics allow 32 base64url characters, APNs 64 bytes. */
export function collapseIdOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

const vapid = new WeakMap<Services, Promise<VapidKeys>>();

/** The install's VAPID keys (made on first use, then kept in the database). */
export function vapidKeys(svc: Services): Promise<VapidKeys> {
  let p = vapid.get(svc);
  if (!p) {
    p = loadVapidKeys(svc.db, svc.sealer);
    p.catch(() => vapid.delete(svc));
    vapid.set(svc, p);
  }
  return p;
}

function vapidSubject(svc: Services): string {
  if (svc.config.vapidSubject) return svc.config.vapidSubject;
  if (svc.config.publicUrl?.startsWith('https://')) return svc.config.publicUrl;
  const from = /<([^>]+)>/.exec(svc.config.mailFrom)?.[1] ?? 'parley@localhost';
  return `mailto:${from}`;
}

/** What notifying a message needs of it: its row's facts, its channel's, its thread's, its author's name. */
type Loaded = {
  msg: {
    appId: string;
    id: string;
    cid: string;
    seq: number;
    userId: string;
    parentId: string | null;
    text: string;
    hasFiles: boolean;
    mentionedChannel: boolean;
  };
  channel: { type: string; id: string; name: string | null };
  threadUsers: Set<string>;
  authorName: string;
};

async function loadMessage(svc: Services, appId: string, messageId: string): Promise<Loaded | null> {
  return (await loadMessages(svc, [{ appId, messageId }])).get(`${appId} ${messageId}`) ?? null;
}

interface LoadedRow {
  ord: number;
  cid: string;
  seq: number | string;
  user_id: string;
  parent_id: string | null;
  text: string;
  has_files: boolean;
  mentioned_channel: boolean;
  channel_type: string;
  channel_id: string;
  channel_name: string | null;
  parent_user_id: string | null;
  participants: string[] | null;
  author_name: string | null;
}

/**
 * A job's messages with their channels, thread participants and author names, keyed by
 * `<appId> <messageId>`: one read for the whole job. Deleted and system messages are left out
 * (nothing to notify).
 */
async function loadMessages(svc: Services, items: readonly { appId: string; messageId: string }[]) {
  const out = new Map<string, Loaded>();
  if (items.length === 0) return out;
  const input = JSON.stringify(items.map((it, ord) => ({ ord, app_id: it.appId, id: it.messageId })));
  for (const r of await svc.database.prepared<LoadedRow>(LOAD_MESSAGES, [input])) {
    const { appId, messageId } = items[r.ord] as { appId: string; messageId: string };
    out.set(`${appId} ${messageId}`, {
      msg: {
        appId,
        id: messageId,
        cid: r.cid,
        seq: Number(r.seq),
        userId: r.user_id,
        parentId: r.parent_id,
        text: r.text,
        hasFiles: r.has_files,
        mentionedChannel: r.mentioned_channel,
      },
      channel: { type: r.channel_type, id: r.channel_id, name: r.channel_name },
      threadUsers: new Set(r.parent_user_id ? [r.parent_user_id, ...(r.participants ?? [])] : []),
      authorName: r.author_name ?? r.user_id,
    });
  }
  return out;
}

/**
 * `loadMessages`' read, a hot statement (platform/db/hot.ts): each message, its channel, its
 * thread's parent and its author by key. Four statements of the query builder before, whose
 * building and whole-row decoding (every JSON column of `messages`) cost the background thread
 * more than PostgreSQL spent on them (bench/scenarios/prodmix.ts).
 */
const LOAD_MESSAGES = hotStatement({
  name: 'parley_notify_messages',
  lane: 'read',
  reads: { messages: 'messages_app_id_id_pk', channels: 'channels_app_id_cid_pk', users: 'users_app_id_id_pk' },
  text: `select i.ord, t.cid, t.seq, t.user_id, t.parent_id, t.text, t.has_files, t.mentioned_channel,
  c.type as channel_type, c.id as channel_id, c.name as channel_name,
  p.user_id as parent_user_id, p.thread_participants as participants, u.name as author_name
from json_to_recordset($1::json) as i(ord int, app_id uuid, id uuid)
cross join lateral (
  select t.cid, t.seq, t.user_id, t.parent_id, t.text, jsonb_array_length(t.attachments) > 0 as has_files,
    t.mentioned_channel, t.deleted_at, t.type
  from messages t where t.app_id = i.app_id and t.id between i.id and i.id order by t.id limit 1
) t
cross join lateral (
  select c.type, c.id, c.name from channels c
  where c.app_id = i.app_id and c.cid between t.cid and t.cid order by c.cid limit 1
) c
left join lateral (
  select p.user_id, p.thread_participants from messages p
  where p.app_id = i.app_id and p.id between t.parent_id and t.parent_id order by p.id limit 1
) p on true
left join lateral (
  select u.name from users u where u.app_id = i.app_id and u.id between t.user_id and t.user_id order by u.id limit 1
) u on true
where t.deleted_at is null and t.type = 'regular'`,
});

/**
 * Every other member of each message's channel (or just `only`) who has somewhere to be reached
 * (a push subscription or device, or an active workspace membership for the email digest), with
 * what the decision needs, keyed like `loadMessages`: one read for a whole job, not one a message
 * (it was the one statement every message of the production mix cost,
 * bench/scenarios/prodmix.ts). The members with nowhere to be reached are left out before their
 * settings, mentions and bursts are read: nothing is decided for them.
 */
async function candidatesOf(svc: Services, list: readonly Loaded[], only?: string): Promise<Map<string, Candidate[]>> {
  const out = new Map<string, Candidate[]>();
  if (list.length === 0) return out;
  const input = JSON.stringify(
    list.map(({ msg }, ord) => ({
      ord,
      app_id: msg.appId,
      id: msg.id,
      cid: msg.cid,
      seq: msg.seq,
      author: msg.userId,
      everyone: msg.mentionedChannel,
      collapse_key: collapseKeyOf(msg.cid, msg.parentId),
      only_user: only ?? null,
    })),
  );
  const found = await svc.database.prepared<Candidate & { ord: number }>(CANDIDATES, [input]);
  for (const { ord, ...c } of found) {
    const { msg } = list[ord] as Loaded;
    const key = `${msg.appId} ${msg.id}`;
    const had = out.get(key);
    if (had) had.push(c);
    else out.set(key, [c]);
  }
  return out;
}

/**
 * Whether the app `a.app_id` has any push subscription, push device or workspace membership at
 * all: one probe of each table's index by its leading `app_id` (the first row, if any). The
 * job's reachability read leaves out an app with none of the three; its candidates' read probes a
 * member in a table only where the member's app has a row of it.
 */
const APP_HAS = {
  subs: `coalesce((select true from push_subscriptions p
      where p.app_id between a.app_id and a.app_id order by p.app_id, p.user_id limit 1), false)`,
  devices: `coalesce((select true from push_devices d
      where d.app_id between a.app_id and a.app_id order by d.app_id, d.user_id limit 1), false)`,
  workspaces: `coalesce((select true from workspace_members w
      where w.app_id between a.app_id and a.app_id order by w.app_id, w.user_id limit 1), false)`,
};

/**
 * `candidatesOf`' read. A hot statement (platform/db/hot.ts): every settings, mention and burst
 * row is one probe of its key. As a query of the builder it was planned on every run (7 ms) and,
 * with the members' filter estimated at one row, joined the channel settings and the bursts by
 * reading each table whole once per member (12 ms a job of 20 messages and 200 members in the
 * production mix, against 1.3 ms for the sends of those messages). The members' reachability is
 * worked out once each (`offset 0` keeps the subquery whole), not again for the select list.
 */
const CANDIDATES = hotStatement({
  name: 'parley_notify_candidates',
  lane: 'read',
  reads: {
    members: 'members_app_id_cid_user_id_pk',
    push_subscriptions: 'push_subscriptions_user_idx',
    push_devices: 'push_devices_user_idx',
    workspace_members: 'workspace_members_user_uq',
    // Named in both of its keys, so either is an exact probe (hot.ts).
    user_message_flags: ['user_message_flags_app_id_user_id_message_id_pk', 'flags_user_cid_idx'],
    notification_settings: 'notification_settings_app_id_user_id_pk',
    channel_notification_settings: 'channel_notification_settings_app_id_user_id_cid_pk',
    push_bursts: 'push_bursts_app_id_user_id_collapse_key_pk',
  },
  text: `with apps as materialized (
  select a.app_id,
    ${APP_HAS.subs} as subs, ${APP_HAS.devices} as devices, ${APP_HAS.workspaces} as workspaces,
    coalesce((select true from notification_settings s
      where s.app_id between a.app_id and a.app_id order by s.app_id, s.user_id limit 1), false) as settings,
    coalesce((select true from channel_notification_settings o
      where o.app_id between a.app_id and a.app_id order by o.app_id, o.user_id, o.cid limit 1), false) as overrides
  from (select distinct app_id from json_to_recordset($1::json) as i(app_id uuid)) a
)
select i.ord, m.user_id, m.muted, m.last_read_seq,
  s.level, s.time_zone, s.dnd_until, s.dnd_schedule, s.email_digest,
  o.level as channel_level,
  (i.everyone or coalesce((select f.mentioned from user_message_flags f
    where f.app_id = m.app_id and (f.user_id, f.cid, f.seq) between (m.user_id, i.cid, i.seq) and (m.user_id, i.cid, i.seq)
      and f.message_id = i.id
    order by f.user_id, f.cid, f.seq limit 1), false)) as flagged,
  m.has_push, m.has_email, b.sent_at as burst_at
from json_to_recordset($1::json)
  as i(ord int, app_id uuid, id uuid, cid text, seq bigint, author text, everyone boolean, collapse_key text, only_user text)
join apps g on g.app_id = i.app_id
cross join lateral (
  select m.app_id, m.cid, m.user_id, m.muted, m.last_read_seq,
    (g.subs and coalesce((select true from push_subscriptions p
        where p.app_id = m.app_id and p.user_id between m.user_id and m.user_id order by p.user_id limit 1), false))
      or (g.devices and coalesce((select true from push_devices d
        where d.app_id = m.app_id and d.user_id between m.user_id and m.user_id order by d.user_id limit 1), false))
      as has_push,
    g.workspaces and coalesce((select w.deactivated_at is null from workspace_members w
        where w.app_id = m.app_id and w.user_id between m.user_id and m.user_id order by w.user_id limit 1), false)
      as has_email
  from members m
  where m.app_id = i.app_id and m.cid between i.cid and i.cid and m.user_id <> i.author
    and (i.only_user is null or m.user_id = i.only_user)
  order by m.cid, m.user_id
  offset 0
) m
left join lateral (
  select s.level, s.time_zone, s.dnd_until, s.dnd_schedule, s.email_digest from notification_settings s
  where g.settings and s.app_id = m.app_id and s.user_id between m.user_id and m.user_id order by s.user_id limit 1
) s on true
left join lateral (
  select o.level from channel_notification_settings o
  where g.overrides and o.app_id = m.app_id and (o.user_id, o.cid) between (m.user_id, m.cid) and (m.user_id, m.cid)
  order by o.user_id, o.cid limit 1
) o on true
left join lateral (
  select b.sent_at from push_bursts b
  where b.app_id = m.app_id and (b.user_id, b.collapse_key) between (m.user_id, i.collapse_key) and (m.user_id, i.collapse_key)
  order by b.user_id, b.collapse_key limit 1
) b on true
where m.has_push or m.has_email`,
});

/**
 * What one job's messages share: their candidates (read for all of them at once), each app's
 * native push senders, and the pushes this job has made so far (`<app> <user> <collapse key>`:
 * when), which a candidate read before them cannot show: a later message of the same thread
 * burst must see the earlier one's push.
 */
interface JobContext {
  candidates: Map<string, Candidate[]>;
  senders: Map<string, Promise<Map<string, NativePush>>>;
  bursts: Map<string, Date>;
}

function sendersFor(svc: Services, ctx: JobContext, appId: string): Promise<Map<string, NativePush>> {
  let p = ctx.senders.get(appId);
  if (!p) {
    p = nativeSenders(svc, appId);
    ctx.senders.set(appId, p);
  }
  return p;
}

const burstKey = (appId: string, userId: string, collapseKey: string) => `${appId} ${userId} ${collapseKey}`;

function options(svc: Services): DecideOptions {
  return { graceSeconds: svc.config.pushGraceSeconds, burstSeconds: svc.config.pushBurstSeconds };
}

/**
 * The items of a job whose message has, in its channel, someone other than its author with
 * anywhere to be reached (a push subscription or device, or an active workspace membership for
 * the email digest): one read for the whole job. The rest would come to nothing in
 * `notifyOne` after four reads each; in an app whose users have no push and no email (an SDK
 * app, say), that was every message, and most of what a send asked of the database.
 */
export async function reachableItems(
  svc: Services,
  items: NotifyJob['items'],
): Promise<(NotifyJob['items'][number] & { cid: string })[]> {
  if (items.length === 0) return [];
  const input = JSON.stringify(items.map((it, ord) => ({ ord, app_id: it.appId, id: it.messageId })));
  const found = await svc.database.prepared<{ ord: number; cid: string }>(REACHABLE, [input]);
  return found.map((r) => ({ ...(items[r.ord] as NotifyJob['items'][number]), cid: r.cid }));
}

/** Channels of one job whose messages are notified at once (each channel's in order). */
const CHANNELS_AT_ONCE = 8;

/**
 * Notify a job's messages: one channel's one after another, in send order (so a device's last
 * notification of a conversation is its last message), up to `CHANNELS_AT_ONCE` channels at
 * once. One at a time for the whole job, each message waiting for its reads and its pushes'
 * answers, kept pushes to about ten a second in the production mix while 500 messages a
 * second were sent (bench/scenarios/prodmix.ts).
 */
export async function notifyItems(svc: Services, items: NotifyJob['items']): Promise<void> {
  const byChannel = new Map<string, { appId: string; messageId: string }[]>();
  const reachable = await reachableItems(svc, items);
  const loaded = await loadMessages(svc, reachable);
  const ctx: JobContext = {
    candidates: await candidatesOf(svc, [...loaded.values()]),
    senders: new Map(),
    bursts: new Map(),
  };
  for (const it of reachable) {
    const k = `${it.appId} ${it.cid}`;
    const list = byChannel.get(k);
    if (list) list.push(it);
    else byChannel.set(k, [it]);
  }
  const queues = [...byChannel.values()];
  let next = 0;
  const worker = async () => {
    while (next < queues.length) {
      const q = queues[next++] as { appId: string; messageId: string }[];
      for (const { appId, messageId } of q)
        await notifyOne(svc, appId, messageId, undefined, loaded.get(`${appId} ${messageId}`) ?? null, ctx);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHANNELS_AT_ONCE, queues.length) }, worker));
}

/**
 * `reachableItems`' read: per item, its message by key; then, once per channel and author of the
 * job (not once per message: a job of a busy channel holds hundreds of its messages, and in an
 * app whose users have no push and no email every probe of every member came to nothing for
 * each of them, 22 blocks a send in bench/pg-cost.ts), the first member of the channel but the
 * author who has a push subscription, a push device or an active workspace membership; and
 * none of that in an app where no one has any of them (three probes of the app come first: in
 * the chat mix, where no one can be reached, the member probes read 10,545 blocks a job).
 * A hot statement (platform/db/hot.ts), so its plan keeps each read on its key however the
 * tables grew since they were analyzed: a plan that took `messages` for empty scanned it whole
 * for every item (6 ms a job in the chat mix).
 */
const REACHABLE = hotStatement({
  name: 'parley_notify_reachable',
  lane: 'read',
  reads: {
    messages: 'messages_app_id_id_pk',
    members: 'members_app_id_cid_user_id_pk',
    push_subscriptions: 'push_subscriptions_user_idx',
    push_devices: 'push_devices_user_idx',
    workspace_members: 'workspace_members_user_uq',
  },
  text: `with t as materialized (
  select i.ord, i.app_id, t.cid, t.user_id
  from json_to_recordset($1::json) as i(ord int, app_id uuid, id uuid)
  cross join lateral (
    select t.cid, t.user_id from messages t where t.app_id = i.app_id and t.id between i.id and i.id order by t.id limit 1
  ) t
),
-- The apps of the job where anyone at all has a push target or a workspace membership (active or
-- not: the member probes below check): in one where no one has, every channel's probe of every
-- member would come to nothing.
apps as materialized (
  select a.app_id
  from (select distinct app_id from t) a
  where ${APP_HAS.subs} or ${APP_HAS.devices} or ${APP_HAS.workspaces}
),
reached as materialized (
  select k.app_id, k.cid, k.user_id
  from (select distinct app_id, cid, user_id from t) k
  join apps on apps.app_id = k.app_id
  cross join lateral (
    select m.user_id from members m
    where m.app_id = k.app_id and m.cid between k.cid and k.cid and m.user_id <> k.user_id
      and ((select true from push_subscriptions p
            where p.app_id = m.app_id and p.user_id between m.user_id and m.user_id order by p.user_id limit 1)
        or (select true from push_devices d
            where d.app_id = m.app_id and d.user_id between m.user_id and m.user_id order by d.user_id limit 1)
        or (select w.deactivated_at is null from workspace_members w
            where w.app_id = m.app_id and w.user_id between m.user_id and m.user_id order by w.user_id limit 1))
    order by m.cid, m.user_id limit 1
  ) r
)
select t.ord, t.cid
from t join reached r on r.app_id = t.app_id and r.cid = t.cid and r.user_id = t.user_id
order by t.ord`,
});

/** Decide and act for each candidate of one message; `afterGrace` on the deliver job's second look. */
async function notifyOne(
  svc: Services,
  appId: string,
  messageId: string,
  only?: string,
  preloaded?: Loaded | null,
  context?: JobContext,
): Promise<void> {
  const loaded = preloaded === undefined ? await loadMessage(svc, appId, messageId) : preloaded;
  if (!loaded) return;
  const { msg, channel, threadUsers } = loaded;
  const collapseKey = collapseKeyOf(msg.cid, msg.parentId);
  const ctx = context ?? { candidates: await candidatesOf(svc, [loaded], only), senders: new Map(), bursts: new Map() };
  // Only those with somewhere to be reached: `candidatesOf` reads no one else.
  const reachable = ctx.candidates.get(`${appId} ${msg.id}`) ?? [];
  if (reachable.length === 0) return;
  const present = new Set(
    await svc.presence.present(
      appId,
      reachable.filter((c) => c.has_push).map((c) => c.user_id),
    ),
  );
  const now = new Date(svc.clock());
  const pushes: { userId: string; reason: PushReason }[] = [];
  for (const c of reachable) {
    const facts = {
      isAuthor: false,
      isDm: channel.type === 'dm',
      mentioned: c.flagged,
      inThread: !!msg.parentId && threadUsers.has(c.user_id),
    };
    const prefs = {
      level: (c.level ?? 'mentions') as 'all' | 'mentions' | 'none',
      channelLevel: c.channel_level as 'all' | 'mentions' | 'none' | null,
      muted: c.muted,
      timeZone: c.time_zone ?? 'UTC',
      dndUntil: asDate(c.dnd_until),
      dndSchedule: c.dnd_schedule,
    };
    const unread = msg.seq > Number(c.last_read_seq);
    // The digest: mentions and DMs left unread, whatever the push said (DND and being active
    // somewhere hold pushes back, not the mail that comes long after).
    const why = reasonOf(facts);
    if (
      only === undefined &&
      c.has_email &&
      c.email_digest !== false &&
      unread &&
      !prefs.muted &&
      (why === 'dm' || why === 'mention') &&
      (prefs.channelLevel ?? prefs.level) !== 'none'
    )
      await queueDigest(svc, appId, c.user_id);
    if (!c.has_push) continue;
    const read = asDate(c.burst_at);
    const mine = ctx.bursts.get(burstKey(appId, c.user_id, collapseKey));
    const lastBurstAt = mine && (!read || mine > read) ? mine : read;
    const d = decidePush(
      prefs,
      facts,
      { now, active: present.has(c.user_id), unread, afterGrace: only !== undefined, lastBurstAt },
      options(svc),
    );
    svc.log.debug({ appId, userId: c.user_id, messageId, decision: d }, 'push decision');
    if (d.kind === 'later') {
      await svc.jobs.enqueue(
        svc.db,
        DELIVER,
        { appId, userId: c.user_id, messageId },
        { startAfterSeconds: d.afterSeconds, singletonKey: `${appId}:${c.user_id}:${messageId}` },
      );
    } else if (d.kind === 'push') pushes.push({ userId: c.user_id, reason: d.reason });
  }
  if (pushes.length === 0) return;
  await pushToMany(svc, await sendersFor(svc, ctx, appId), pushes, loaded, collapseKey, ctx.bursts);
}

/** What a push says: the channel (or, in a DM, the sender) and the message's text. */
function payloadOf(loaded: Loaded, reason: PushReason, collapseKey: string, badge: number): PushPayload {
  const { msg, channel, authorName } = loaded;
  const where = channel.type === 'dm' ? authorName : `#${channel.name ?? channel.id}`;
  const title = msg.parentId ? `Thread in ${where}` : where;
  const text = msg.text.trim() || (msg.hasFiles ? 'sent a file' : '');
  const body = channel.type === 'dm' && !msg.parentId ? text : `${authorName}: ${text}`;
  return {
    type: 'message.new',
    app_id: msg.appId,
    cid: msg.cid,
    message_id: msg.id,
    parent_id: msg.parentId,
    title: title.slice(0, 120),
    body: body.length > 240 ? `${body.slice(0, 239)}…` : body,
    collapse_key: collapseKey,
    badge,
    reason,
  };
}

/**
 * Push one message to its recipients: their badges, their bursts and their devices each in one
 * statement for all of them, then the pushes, several at once (each recipient's are their own).
 */
async function pushToMany(
  svc: Services,
  senders: Map<string, NativePush>,
  recipients: { userId: string; reason: PushReason }[],
  loaded: Loaded,
  collapseKey: string,
  bursts: Map<string, Date>,
): Promise<void> {
  const appId = loaded.msg.appId;
  const users = recipients.map((r) => r.userId);
  const badges = await svc.unread.totals(appId, users);
  const collapseId = collapseIdOf(collapseKey);
  // The bursts are recorded first (in the statement that reads the targets, before any push): a
  // retry of this job after a partial delivery does not push twice.
  const at = new Date(svc.clock());
  for (const userId of users) bursts.set(burstKey(appId, userId, collapseKey), at);
  const input = JSON.stringify([...new Set(users)].map((userId) => ({ app_id: appId, user_id: userId })));
  const targets = await svc.database.prepared<TargetRow>(PUSH_TARGETS, [input, collapseKey, at.toISOString()]);
  const subs: KnownSub[] = [];
  const devices: KnownDevice[] = [];
  for (const t of targets)
    if (t.kind === 'web')
      subs.push({ id: t.id, userId: t.user_id, endpoint: t.endpoint, p256dh: t.p256dh, auth: t.auth });
    else devices.push({ id: t.id, userId: t.user_id, provider: t.provider, token: t.token });
  const jobs: PushJob[] = recipients.flatMap(({ userId, reason }) => {
    const payload = payloadOf(loaded, reason, collapseKey, badges.get(userId) ?? 0);
    const urgency = reason === 'message' ? 'normal' : 'high';
    const targets: PushTarget[] = [
      ...subs.filter((s) => s.userId === userId).map((s) => ({ kind: 'web' as const, id: s.id })),
      ...devices.filter((d) => d.userId === userId).map((d) => ({ kind: 'native' as const, id: d.id })),
    ];
    return targets.map((target): PushJob => ({ appId, userId, target, payload, collapseId, urgency }));
  });
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as PushJob;
      const outcome = await pushTarget(svc, senders, job, { subs, devices });
      // A transient failure (5xx, 429, timeout, refused connection) is tried again on its own,
      // so the devices that got this push do not get it twice.
      if (outcome === 'retry')
        await svc.jobs.enqueue(svc.db, PUSH, job, {
          startAfterSeconds: svc.config.pushRetryDelaySeconds,
          singletonKey: `${appId}:${job.target.kind}:${job.target.id}:${job.payload.message_id}`,
        });
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(PUSHES_AT_ONCE, jobs.length) }, worker));
  // A failure (the database, say) fails the job, which is tried again; recipients already
  // pushed are not pushed twice (their bursts were recorded before any push).
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

type KnownSub = Pick<typeof schema.pushSubscriptions.$inferSelect, 'id' | 'userId' | 'endpoint' | 'p256dh' | 'auth'>;
type KnownDevice = Pick<typeof schema.pushDevices.$inferSelect, 'id' | 'userId' | 'provider' | 'token'>;

/** A row of `PUSH_TARGETS`: the other kind's columns are null and not read. */
type TargetRow =
  | { kind: 'web'; id: string; user_id: string; endpoint: string; p256dh: string; auth: string }
  | { kind: 'native'; id: string; user_id: string; provider: string; token: string };

/**
 * `pushToMany`'s statement: record the push burst of each recipient (so a retry after a partial
 * delivery does not push them again), and read their Web Push subscriptions and native devices.
 * One hot statement a pushed message (platform/db/hot.ts) instead of three built by the query
 * builder: in the production mix (bench/scenarios/prodmix.ts) building them cost the background
 * thread more than PostgreSQL took to run them.
 */
const PUSH_TARGETS = hotStatement({
  name: 'parley_push_targets',
  lane: 'read',
  reads: {
    push_bursts: 'push_bursts_app_id_user_id_collapse_key_pk',
    push_subscriptions: 'push_subscriptions_user_idx',
    push_devices: 'push_devices_user_idx',
  },
  text: `with u as materialized (
  select u.app_id, u.user_id from json_to_recordset($1::json) as u(app_id uuid, user_id text)
),
burst as (
  insert into push_bursts (app_id, user_id, collapse_key, sent_at)
  select u.app_id, u.user_id, $2::text, $3::timestamptz from u
  on conflict (app_id, user_id, collapse_key) do update set sent_at = excluded.sent_at
)
select 'web' as kind, p.id, p.user_id, p.endpoint, p.p256dh, p.auth, null::text as provider, null::text as token
from u cross join lateral (
  select p.id, p.user_id, p.endpoint, p.p256dh, p.auth from push_subscriptions p
  where p.app_id = u.app_id and p.user_id between u.user_id and u.user_id order by p.user_id
) p
union all
select 'native', d.id, d.user_id, null, null, null, d.provider, d.token
from u cross join lateral (
  select d.id, d.user_id, d.provider, d.token from push_devices d
  where d.app_id = u.app_id and d.user_id between u.user_id and u.user_id order by d.user_id
) d`,
});

/**
 * One push to one target: 'sent'; 'dropped' when the service says the target is gone (Web
 * Push 404/410, APNs 410, FCM UNREGISTERED), which deletes it; 'retry' when the failure is
 * transient; 'failed' when it is not (another 4xx: trying again would not help); 'skipped'
 * when the target no longer exists or may not be posted to.
 */
async function pushTarget(
  svc: Services,
  senders: Map<string, NativePush>,
  job: PushJob,
  known?: { subs: KnownSub[]; devices: KnownDevice[] },
): Promise<'sent' | 'dropped' | 'retry' | 'failed' | 'skipped'> {
  const { appId, userId, target, payload, collapseId, urgency } = job;
  if (target.kind === 'web') {
    const s =
      known?.subs.find((x) => x.id === target.id) ??
      (
        await svc.db
          .select()
          .from(schema.pushSubscriptions)
          .where(and(eq(schema.pushSubscriptions.appId, appId), eq(schema.pushSubscriptions.id, target.id)))
      )[0];
    if (!s || s.userId !== userId || !pushableEndpoint(svc, s.endpoint)) return 'skipped';
    const keys = await vapidKeys(svc);
    const opts = { keys, subject: vapidSubject(svc), ca: svc.config.webPushCa, lookup: pushLookup(svc) };
    const r = await sendWebPush(opts, s, JSON.stringify(payload), {
      topic: collapseId,
      ttlSeconds: 24 * 3600,
      urgency,
    }).catch((err: unknown) => ({ ok: false as const, gone: false, status: 0, detail: String(err) }));
    if (r.ok) return 'sent';
    const retry = !r.gone && (r.status === 0 || r.status === 429 || r.status >= 500);
    if (r.gone)
      await svc.db
        .delete(schema.pushSubscriptions)
        .where(and(eq(schema.pushSubscriptions.appId, appId), eq(schema.pushSubscriptions.id, s.id)));
    svc.log.warn(
      { appId, userId, endpoint: new URL(s.endpoint).origin, detail: r.detail, dropped: r.gone, retry },
      'web push failed',
    );
    return r.gone ? 'dropped' : retry ? 'retry' : 'failed';
  }
  const d =
    known?.devices.find((x) => x.id === target.id) ??
    (
      await svc.db
        .select()
        .from(schema.pushDevices)
        .where(and(eq(schema.pushDevices.appId, appId), eq(schema.pushDevices.id, target.id)))
    )[0];
  if (!d || d.userId !== userId) return 'skipped';
  const sender = senders.get(d.provider);
  if (!sender) return 'skipped';
  const data: Record<string, string> = {
    type: payload.type,
    cid: payload.cid,
    message_id: payload.message_id,
    parent_id: payload.parent_id ?? '',
    reason: payload.reason,
    collapse_key: payload.collapse_key,
  };
  const r = await sender
    .send(d.token, {
      title: payload.title,
      body: payload.body,
      badge: payload.badge,
      collapseKey: payload.collapse_key,
      collapseId,
      data,
    })
    // A thrown send is a timeout or a connection that failed: worth another try.
    .catch((err: unknown) => ({ ok: false as const, gone: false, retry: true, detail: String(err) }));
  if (r.ok) return 'sent';
  if (r.gone)
    await svc.db
      .delete(schema.pushDevices)
      .where(and(eq(schema.pushDevices.appId, appId), eq(schema.pushDevices.id, d.id)));
  svc.log.warn(
    { appId, userId, provider: d.provider, detail: r.detail, dropped: r.gone, retry: !!r.retry },
    'native push failed',
  );
  return r.gone ? 'dropped' : r.retry ? 'retry' : 'failed';
}

/** Define the notification jobs on the server's queue. */
export async function defineNotificationJobs(svc: Services): Promise<void> {
  const notify: JobKind<NotifyJob> = {
    name: NOTIFY.name,
    retryLimit: 3,
    retryDelaySeconds: 5,
    expireInSeconds: 300,
    concurrency: 2,
    run: ({ items }) => notifyItems(svc, items),
  };
  const deliver: JobKind<DeliverJob> = {
    name: DELIVER.name,
    policy: 'short',
    retryLimit: 3,
    retryDelaySeconds: 5,
    expireInSeconds: 120,
    concurrency: 2,
    run: ({ appId, userId, messageId }) => notifyOne(svc, appId, messageId, userId),
  };
  const push: JobKind<PushJob> = {
    name: PUSH.name,
    // With the first try inline and this job's first run after `pushRetryDelaySeconds`, the
    // queue's backoff (base doubling, jittered) spreads the rest over about half an hour.
    retryLimit: 8,
    retryDelaySeconds: svc.config.pushRetryDelaySeconds,
    expireInSeconds: 120,
    concurrency: 2,
    run: async (job) => {
      const outcome = await pushTarget(svc, await nativeSenders(svc, job.appId), job);
      // Throwing hands the job back to the queue, which retries it with backoff.
      if (outcome === 'retry') throw new Error(`push to ${job.target.kind} ${job.target.id} failed; will retry`);
    },
  };
  await svc.jobs.define(notify);
  await svc.jobs.define(deliver);
  await svc.jobs.define(push);
  await defineDigestJob(svc);
  await defineDndEndJobs(svc);
}

/**
 * How items get into the activity inbox. Never on the send path's transaction: after a send
 * that may put items in an inbox commits (one that wrote its outbox row, below), its id is
 * queued here (beside the push hand-off, notifications/trigger.ts), and the ids of one turn (or
 * of a 50 ms linger during a burst) are derived together — a fixed handful of statements per
 * batch, not per message:
 *
 * 1. the messages with their channel's type, for replies the thread's people, the mention flags
 *    the send wrote (user_message_flags: @name, @group, @here) and, for @channel and DMs, the
 *    channel's members (`MESSAGE_FACTS`);
 * 2. the candidates' mute and channel level, and their usernames (`CANDIDATE_FACTS`);
 * 3. the names the text says, against the groups' handles, to tell `via` (user, group, here,
 *    channel);
 * then one insert of all items (idempotent by `dedupe`), the prune, one count per user, and
 * `inbox.updated` to each user's connections.
 *
 * Rules: only members of the channel get items (never anyone who cannot read it); a muted
 * channel, or a channel set to `none`, puts nothing in the inbox; one item per
 * message and user, the strongest reason winning (mention, then thread reply, then DM); a DM
 * is an item only while its recipient is connected nowhere ("while away"). DND holds pushes
 * back, not the inbox.
 *
 * Bounded: at most `inboxMaxItems` items per user (1,000; the oldest go first) and none older
 * than `inboxRetentionDays` (90; an hourly sweep per server, on a recording).
 *
 * Durable: a send that may put items in an inbox writes its row of `inbox_pending` in the same
 * statement (group commit) or transaction (one-send path) as the message, so the row exists
 * exactly when the message commits. A derivation deletes the rows of its messages once their
 * items are stored; rows a crash left behind (the process died between the commit and the
 * derivation) are derived by `recoverPending`: at start and by the `inbox.recover` job every
 * few seconds. Items are idempotent (`dedupe`), so deriving a message twice — two nodes, or a
 * crash after the insert but before the delete — stores its items once. Deriving is what the
 * send path does not pay for: the outbox row is one more row in the statement it already runs.
 */
import type { InboxItem, InboxKind } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { hotStatement, type Queryable, rows } from '../../platform/db/index.js';
import { withTransaction } from '../../platform/event-log.js';
import { TickBatcher } from '../../platform/tick-batch.js';
import type { Services } from '../../services.js';
import { parseMentions } from '../users/index.js';
import { wants } from '../webhooks/index.js';

/** The app bot (reminders/jobs.ts): its DMs are reminders, recorded as such. */
const BOT = 'parley-bot';

export interface NewItem {
  appId: string;
  userId: string;
  kind: InboxKind;
  via?: 'user' | 'group' | 'here' | 'channel' | null;
  groupHandle?: string | null;
  cid?: string | null;
  messageId?: string | null;
  parentId?: string | null;
  actorId?: string | null;
  reactionType?: string | null;
  noteId?: string | null;
  dedupe: string;
}

interface StoredItem {
  app_id: string;
  id: string;
  user_id: string;
  kind: string;
  via: string | null;
  group_handle: string | null;
  cid: string | null;
  message_id: string | null;
  parent_id: string | null;
  actor_id: string | null;
  reaction_type: string | null;
  note_id: string | null;
  read_at: Date | string | null;
  created_at: Date | string;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

export function presentStored(r: StoredItem, titles?: ReadonlyMap<string, string>): InboxItem {
  const title = r.note_id ? titles?.get(`${r.app_id}:${r.note_id}`) : undefined;
  return {
    id: r.id,
    kind: r.kind as InboxKind,
    via: r.via as InboxItem['via'],
    group_handle: r.group_handle,
    cid: r.cid,
    message_id: r.message_id,
    parent_id: r.parent_id,
    actor_id: r.actor_id,
    reaction_type: r.reaction_type,
    note_id: r.note_id,
    read: r.read_at !== null,
    created_at: iso(r.created_at),
    ...(title !== undefined ? { note_title: title } : {}),
  };
}

/**
 * The titles of the notes some new items name, keyed `app:note` (none for a deleted note). Items
 * go only to people who may read the note's channel (noteMentions, holdNoteFollowers), so the
 * live item and the webhook's carry the title that the list would show them.
 */
async function noteTitles(svc: Services, items: readonly NewItem[]): Promise<Map<string, string>> {
  const named = new Map<string, { app_id: string; id: string }>();
  for (const i of items) if (i.noteId) named.set(`${i.appId}:${i.noteId}`, { app_id: i.appId, id: i.noteId });
  if (named.size === 0) return new Map();
  const found = await rows<{ app_id: string; id: string; title: string }>(
    svc.db,
    sql`select n.app_id, n.id, n.title from notes n
      join json_to_recordset(${JSON.stringify([...named.values()])}::json) as x(app_id uuid, id uuid)
        on n.app_id = x.app_id and n.id = x.id
      where n.deleted_at is null`,
  );
  return new Map(found.map((n) => [`${n.app_id}:${n.id}`, n.title]));
}

/** Unread counts of some users of one app, in one statement. */
export async function unreadCounts(svc: Services, appId: string, users: string[]): Promise<Map<string, number>> {
  const out = new Map(users.map((u) => [u, 0]));
  if (users.length === 0) return out;
  const found = await rows<{ user_id: string; n: number }>(
    svc.db,
    sql`select user_id, count(*)::int as n from inbox_items
      where app_id = ${appId} and user_id in (select jsonb_array_elements_text(${JSON.stringify(users)}::jsonb))
        and read_at is null
      group by user_id`,
  );
  for (const r of found) out.set(r.user_id, Number(r.n));
  return out;
}

/** Tell each user's connections their count (and the new item, the items taken back or those read, when that is why). */
export async function publishCounts(
  svc: Services,
  appId: string,
  users: string[],
  newItems: Map<string, InboxItem> = new Map(),
  removed: Map<string, string[]> = new Map(),
  read: Map<string, string[]> = new Map(),
): Promise<Map<string, number>> {
  const counts = await unreadCounts(svc, appId, users);
  const created_at = new Date().toISOString();
  svc.bus.publish(
    users.map((userId) => {
      const item = newItems.get(userId);
      const gone = removed.get(userId);
      const done = read.get(userId);
      return {
        to: 'user' as const,
        appId,
        userId,
        event: {
          type: 'inbox.updated' as const,
          unread_count: counts.get(userId) ?? 0,
          ...(item ? { item } : {}),
          ...(gone?.length ? { removed: gone } : {}),
          ...(done?.length ? { read: done } : {}),
          created_at,
        },
      };
    }),
  );
  return counts;
}

/** When each server last swept items past the retention (hourly, on a recording). */
const lastSweep = new WeakMap<Services, number>();

/**
 * Store items (one statement; an item already stored under its `dedupe` is not stored again),
 * prune, and publish the counts of the users who got a new one. Call after the commit of what
 * caused them.
 */
export async function recordItems(svc: Services, items: NewItem[]): Promise<void> {
  if (items.length === 0 || !svc.config.inbox) return;
  const at = new Date(svc.clock()).toISOString();
  const input = JSON.stringify(
    items.map((i) => ({
      app_id: i.appId,
      id: uuidv7(),
      user_id: i.userId,
      kind: i.kind,
      via: i.via ?? null,
      group_handle: i.groupHandle ?? null,
      cid: i.cid ?? null,
      message_id: i.messageId ?? null,
      parent_id: i.parentId ?? null,
      actor_id: i.actorId ?? null,
      reaction_type: i.reactionType ?? null,
      note_id: i.noteId ?? null,
      dedupe: i.dedupe,
      created_at: at,
    })),
  );
  const insert = (q: Queryable) =>
    rows<StoredItem>(
      q,
      sql`insert into inbox_items (app_id, id, user_id, kind, via, group_handle, cid, message_id, parent_id,
        actor_id, reaction_type, note_id, dedupe, created_at)
      select app_id, id, user_id, kind, via, group_handle, cid, message_id, parent_id, actor_id, reaction_type, note_id,
        dedupe, created_at
      from json_to_recordset(${input}::json) as x(app_id uuid, id uuid, user_id text, kind text, via text,
        group_handle text, cid text, message_id uuid, parent_id uuid, actor_id text, reaction_type text, note_id uuid,
        dedupe text, created_at timestamptz)
      on conflict (app_id, user_id, dedupe) do nothing
      returning app_id, id, user_id, kind, via, group_handle, cid, message_id, parent_id, actor_id, reaction_type,
        note_id, read_at, created_at`,
    );
  // Apps whose webhook endpoints want `inbox.new` (from memory): only they pay for a transaction,
  // in which the outbox writes the deliveries with the items (features/webhooks/outbox.ts).
  const titles = await noteTitles(svc, items);
  const hooked = new Set<string>();
  for (const appId of new Set(items.map((i) => i.appId))) {
    const { endpoints } = await svc.hooks.get(appId);
    if (endpoints.some((ep) => wants(ep.events, 'inbox.new'))) hooked.add(appId);
  }
  const stored =
    hooked.size === 0
      ? await insert(svc.db)
      : await withTransaction(svc, async (tx, out) => {
          const got = await insert(tx);
          for (const r of got)
            if (hooked.has(r.app_id))
              out.push({
                to: 'webhooks',
                appId: r.app_id,
                userId: r.user_id,
                event: {
                  type: 'inbox.new',
                  user_id: r.user_id,
                  item: presentStored(r, titles),
                  created_at: iso(r.created_at),
                },
              });
          return got;
        });
  if (stored.length === 0) return;
  const byApp = new Map<string, Map<string, InboxItem>>();
  for (const r of stored) {
    const m = byApp.get(r.app_id) ?? new Map<string, InboxItem>();
    byApp.set(r.app_id, m);
    m.set(r.user_id, presentStored(r, titles));
  }
  // Keep each user who got an item to the cap: the oldest beyond it go.
  const owners = JSON.stringify(
    [...byApp].flatMap(([app_id, m]) => [...m.keys()].map((user_id) => ({ app_id, user_id }))),
  );
  await svc.db.execute(
    sql`delete from inbox_items i using (
        select o.app_id, k.id from json_to_recordset(${owners}::json) as o(app_id uuid, user_id text)
        cross join lateral (
          select id from inbox_items t where t.app_id = o.app_id and t.user_id = o.user_id
          order by t.id desc offset ${svc.config.inboxMaxItems}
        ) k
      ) d
      where i.app_id = d.app_id and i.id = d.id`,
  );
  if (svc.clock() - (lastSweep.get(svc) ?? 0) > 3600_000) {
    lastSweep.set(svc, svc.clock());
    const before = new Date(svc.clock() - svc.config.inboxRetentionDays * 86_400_000);
    await svc.db.execute(sql`delete from inbox_items where created_at < ${before}`);
  }
  for (const [appId, m] of byApp) await publishCounts(svc, appId, [...m.keys()], m);
}

const pending = new WeakMap<Services, Set<Promise<unknown>>>();
export function track(svc: Services, p: Promise<unknown>) {
  const s = pending.get(svc) ?? new Set<Promise<unknown>>();
  pending.set(svc, s);
  s.add(p);
  void p.finally(() => s.delete(p));
}

// ---- messages -------------------------------------------------------------------------------

interface MessageFacts {
  app_id: string;
  id: string;
  cid: string;
  user_id: string;
  text: string;
  parent_id: string | null;
  mentioned_here: boolean;
  mentioned_channel: boolean;
  channel_type: string;
  thread_people: string[] | null;
  /** Users its mention flags name (@name, @group, @here). */
  flagged: string[];
  /** The channel's members, for a DM or @channel (otherwise none). */
  members: string[];
}

/**
 * Derive and record the items of messages that just committed (see the top of this file).
 * `only` (an edit's): just the mentions of these users, per message id.
 */
export async function deriveMessageItems(
  svc: Services,
  items: { appId: string; messageId: string }[],
  only?: Map<string, ReadonlySet<string>>,
): Promise<void> {
  if (items.length === 0) return;
  const keys = JSON.stringify(items.map((i) => ({ app_id: i.appId, id: i.messageId })));
  await recordItems(svc, await messageItems(svc, keys, only));
  // Stored (or none to store): their outbox rows go. A crash before this derives them again.
  if (!only) await donePending(svc, keys);
}

/** Delete the outbox rows of the messages `keys` names (JSON of `{app_id, id}`). */
async function donePending(svc: Services, keys: string): Promise<void> {
  await svc.db.execute(
    sql`delete from inbox_pending p using json_to_recordset(${keys}::json) as k(app_id uuid, id uuid)
      where p.app_id = k.app_id and p.message_id = k.id`,
  );
}

/**
 * The derivation's read of its messages, one statement for all of them: per message, the
 * message by its key, its channel's type, the thread's people for a reply, the users its mention
 * flags name, and — for a DM or @channel — the channel's members. The flags are probed by their
 * key: their candidates are the users the message names (`mentioned_users`) and, for @here, the
 * channel's members (the flag's key starts with the user; no index reaches them by message).
 *
 * A hot statement (platform/db/hot.ts), so each read stays a key probe whatever the statistics
 * say: the join it replaced reached `messages` through `messages_created_idx` on tables
 * analyzed while small — the whole tenant read once per message, 135 ms a derivation at 3,000
 * stored messages (bench/pg-cost.ts) — and `user_message_flags` by a scan of the whole table.
 */
const MESSAGE_FACTS = hotStatement({
  name: 'parley_inbox_messages',
  lane: 'read',
  reads: {
    messages: 'messages_app_id_id_pk',
    channels: 'channels_app_id_cid_pk',
    members: 'members_app_id_cid_user_id_pk',
    // The probe names the flag by both keys of the row: either index is an exact probe.
    user_message_flags: ['user_message_flags_app_id_user_id_message_id_pk', 'flags_user_cid_idx'],
  },
  text: `select t.app_id, t.id, t.cid, t.user_id, t.text, t.parent_id, t.mentioned_here, t.mentioned_channel,
  c.type as channel_type,
  case when p.user_id is null then null else jsonb_build_array(p.user_id) || p.thread_participants end as thread_people,
  coalesce(fl.users, '[]'::jsonb) as flagged,
  coalesce(mm.users, '[]'::jsonb) as members
from json_to_recordset($1::json) as i(app_id uuid, id uuid)
cross join lateral (
  select t.app_id, t.id, t.cid, t.seq, t.user_id, t.text, t.parent_id, t.mentioned_users, t.mentioned_here,
    t.mentioned_channel, t.deleted_at, t.type, t.shadowed
  from messages t where t.app_id = i.app_id and t.id between i.id and i.id order by t.id limit 1
) t
cross join lateral (
  select c.type from channels c where c.app_id = t.app_id and c.cid between t.cid and t.cid order by c.cid limit 1
) c
left join lateral (
  select p.user_id, p.thread_participants from messages p
  where t.parent_id is not null and p.app_id = t.app_id and p.id between t.parent_id and t.parent_id
  order by p.id limit 1
) p on true
left join lateral (
  select jsonb_agg(f.user_id) as users
  from (
    select u.user_id from jsonb_array_elements_text(t.mentioned_users) as u(user_id)
    union
    (select m.user_id from members m
      where t.mentioned_here and m.app_id = t.app_id and m.cid between t.cid and t.cid order by m.cid, m.user_id)
  ) k
  cross join lateral (
    select f.user_id from user_message_flags f
    where f.app_id = t.app_id and (f.user_id, f.cid, f.seq) between (k.user_id, t.cid, t.seq) and (k.user_id, t.cid, t.seq)
      and f.message_id = t.id and f.mentioned
    order by f.user_id, f.cid, f.seq limit 1
  ) f
) fl on true
left join lateral (
  select jsonb_agg(m.user_id order by m.user_id) as users from (
    select m.user_id from members m
    where (t.mentioned_channel or c.type = 'dm') and m.app_id = t.app_id and m.cid between t.cid and t.cid
    order by m.cid, m.user_id
  ) m
) mm on true
where t.deleted_at is null and t.type = 'regular' and not t.shadowed`,
});

/**
 * Mute and channel level of each candidate in the message's channel, and their username (for
 * `via`): one statement, each read a key probe (see `MESSAGE_FACTS`).
 */
const CANDIDATE_FACTS = hotStatement({
  name: 'parley_inbox_candidates',
  lane: 'read',
  reads: {
    members: 'members_app_id_cid_user_id_pk',
    channel_notification_settings: 'channel_notification_settings_app_id_user_id_cid_pk',
    users: 'users_app_id_id_pk',
  },
  text: `select k.app_id, k.cid, k.user_id,
  (m.user_id is null or m.muted or coalesce(o.level = 'none', false)) as silent,
  lower(u.username) as username
from json_to_recordset($1::json) as k(app_id uuid, cid text, user_id text)
left join lateral (
  select m.user_id, m.muted from members m
  where m.app_id = k.app_id and (m.cid, m.user_id) between (k.cid, k.user_id) and (k.cid, k.user_id)
  order by m.cid, m.user_id limit 1
) m on true
left join lateral (
  select o.level from channel_notification_settings o
  where o.app_id = k.app_id and (o.user_id, o.cid) between (k.user_id, k.cid) and (k.user_id, k.cid)
  order by o.user_id, o.cid limit 1
) o on true
left join lateral (
  select u.username from users u where u.app_id = k.app_id and u.id between k.user_id and k.user_id
  order by u.id limit 1
) u on true`,
});

/** The items of the messages `keys` names (see the top of this file). */
async function messageItems(svc: Services, keys: string, only?: Map<string, ReadonlySet<string>>): Promise<NewItem[]> {
  const messages = await svc.database.prepared<MessageFacts>(MESSAGE_FACTS, [keys]);
  if (messages.length === 0) return [];
  // Who each message may reach, by reason; the strongest per user wins below.
  type Cand = { userId: string; kind: InboxKind; via: NewItem['via'] };
  const cands = new Map<string, Cand[]>();
  const add = (m: MessageFacts, c: Cand) => {
    if (c.userId === m.user_id) return;
    if (only && (c.kind !== 'mention' || c.via === 'channel' || !only.get(m.id)?.has(c.userId))) return;
    const list = cands.get(m.id) ?? [];
    list.push(c);
    cands.set(m.id, list);
  };
  const byId = new Map(messages.map((m) => [m.id, m]));
  for (const m of messages) for (const u of m.flagged) add(m, { userId: u, kind: 'mention', via: null });
  const dmUsers = new Set<string>();
  for (const m of messages) {
    // @channel reaches every member (as its notification.new did).
    if (m.mentioned_channel) for (const u of m.members) add(m, { userId: u, kind: 'mention', via: 'channel' });
    for (const u of m.thread_people ?? []) add(m, { userId: u, kind: 'thread', via: null });
    if (m.channel_type === 'dm' && m.user_id !== BOT)
      for (const u of m.members) {
        add(m, { userId: u, kind: 'dm', via: null });
        dmUsers.add(`${m.app_id} ${u}`);
      }
  }
  // A DM is an item only for someone away.
  const presentNow = new Set<string>();
  const dmByApp = new Map<string, string[]>();
  for (const k of dmUsers) {
    const [app, u] = k.split(' ') as [string, string];
    dmByApp.set(app, [...(dmByApp.get(app) ?? []), u]);
  }
  for (const [app, us] of dmByApp) for (const u of await svc.presence.present(app, us)) presentNow.add(`${app} ${u}`);

  // Mute and channel level of every candidate, and their usernames (for `via`): one statement.
  const triples = [...cands].flatMap(([id, list]) => {
    const m = byId.get(id) as MessageFacts;
    return [...new Set(list.map((c) => c.userId))].map((user_id) => ({ app_id: m.app_id, cid: m.cid, user_id }));
  });
  if (triples.length === 0) return [];
  const facts = await svc.database.prepared<{
    app_id: string;
    cid: string;
    user_id: string;
    silent: boolean;
    username: string | null;
  }>(CANDIDATE_FACTS, [JSON.stringify(triples)]);
  const factOf = new Map(facts.map((f) => [`${f.app_id} ${f.cid} ${f.user_id}`, f]));
  // Groups the texts name, with their members among the candidates: one statement.
  const named = messages.flatMap((m) => parseMentions(m.text).usernames.map((h) => ({ app_id: m.app_id, handle: h })));
  const groupMembers = named.length
    ? await rows<{ app_id: string; handle: string; user_id: string }>(
        svc.db,
        sql`select distinct g.app_id, g.handle, gm.user_id
          from json_to_recordset(${JSON.stringify(named)}::json) as k(app_id uuid, handle text)
          join user_groups g on g.app_id = k.app_id and lower(g.handle) = k.handle
          join user_group_members gm on gm.app_id = g.app_id and gm.group_id = g.id`,
      )
    : [];

  const out: NewItem[] = [];
  const rank: Record<InboxKind, number> = {
    mention: 0,
    thread: 1,
    dm: 2,
    reaction: 3,
    invitation: 4,
    reminder: 5,
    note_mention: 6,
    task: 7,
    note_updated: 8,
  };
  for (const [id, list] of cands) {
    const m = byId.get(id) as MessageFacts;
    const names = new Set(parseMentions(m.text).usernames);
    const best = new Map<string, Cand>();
    for (const c of list) {
      const b = best.get(c.userId);
      // The stronger kind wins; among mentions, the flag's (by name, group or @here) over @channel's.
      if (!b || rank[c.kind] < rank[b.kind] || (c.kind === b.kind && b.via === 'channel' && c.via === null))
        best.set(c.userId, c);
    }
    for (const [userId, c] of best) {
      const f = factOf.get(`${m.app_id} ${m.cid} ${userId}`);
      if (!f || f.silent) continue;
      if (c.kind === 'dm' && presentNow.has(`${m.app_id} ${userId}`)) continue;
      let via = c.via ?? null;
      let groupHandle: string | null = null;
      if (c.kind === 'mention' && via === null) {
        if (f.username && names.has(f.username)) via = 'user';
        else {
          const g = groupMembers.find(
            (x) => x.app_id === m.app_id && x.user_id === userId && names.has(x.handle.toLowerCase()),
          );
          if (g) {
            via = 'group';
            groupHandle = g.handle;
          } else via = m.mentioned_here ? 'here' : 'user';
        }
      }
      out.push({
        appId: m.app_id,
        userId,
        kind: c.kind,
        via: c.kind === 'mention' ? via : null,
        groupHandle,
        cid: m.cid,
        messageId: m.id,
        parentId: m.parent_id,
        actorId: m.user_id,
        dedupe: `m:${m.id}`,
      });
    }
  }
  return out;
}

class Recorder {
  readonly batcher: TickBatcher<{ appId: string; messageId: string }, null>;
  constructor(svc: Services) {
    this.batcher = new TickBatcher(
      async (items) => {
        try {
          await deriveMessageItems(svc, items);
        } catch (err) {
          svc.log.error({ err, messages: items.length }, 'inbox: derive failed');
        }
        return items.map(() => null);
      },
      { maxInFlight: 1, maxBatch: 500, lingerMs: 50 },
    );
  }
}

const recorders = new WeakMap<Services, Recorder>();

/** Outbox rows one recovery pass derives at a time. */
const RECOVER_BATCH = 500;

/**
 * Derive the messages whose outbox rows are older than `olderThanMs` (rows a crash left, or
 * whose derivation failed), a batch at a time, until none is left or `maxBatches` ran. With the
 * inbox off, the rows are only dropped. Returns how many messages it derived.
 */
export async function recoverPending(
  svc: Services,
  opts: { olderThanMs: number; maxBatches?: number },
): Promise<number> {
  let done = 0;
  for (let i = 0; i < (opts.maxBatches ?? 20); i++) {
    const before = new Date(svc.clock() - opts.olderThanMs);
    const found = await rows<{ app_id: string; message_id: string }>(
      svc.db,
      sql`select app_id, message_id from inbox_pending where created_at <= ${before}
        order by created_at limit ${RECOVER_BATCH}`,
    );
    if (found.length === 0) break;
    const items = found.map((r) => ({ appId: r.app_id, messageId: r.message_id }));
    if (svc.config.inbox) await deriveMessageItems(svc, items);
    else await donePending(svc, JSON.stringify(items.map((x) => ({ app_id: x.appId, id: x.messageId }))));
    done += found.length;
    if (found.length < RECOVER_BATCH) break;
  }
  if (done > 0) svc.log.info({ messages: done }, 'inbox: derived the items of messages left pending');
  return done;
}

/**
 * Queue the inbox items of a message that has just committed. Never throws, never waits. Only a
 * send that wrote its outbox row (`sent.inbox`) can put an item in an inbox: any other (a plain
 * message in a group channel, most of all) costs the inbox nothing — deriving each one cost
 * more PostgreSQL time than its send (bench/pg-cost.ts, issue 57).
 */
export function recordMessage(svc: Services, appId: string, messageId: string, sent: { inbox: boolean }): void {
  if (!svc.config.inbox || !sent.inbox) return;
  const r = recorders.get(svc) ?? new Recorder(svc);
  recorders.set(svc, r);
  void r.batcher.add({ appId, messageId });
}

/**
 * `userId` read channel `cid` up to `seq` (features/reads, through `Services.channelRead`): their
 * unread mention and DM items of its messages up to there are read too, as Slack clears a
 * mention once its conversation is seen, and every device hears which. Thread replies stay
 * (a thread is read where it is opened, not by reading the channel), as do reactions,
 * invitations and reminders. One statement, on the inbox's partial index of unread items.
 */
export function recordChannelRead(svc: Services, appId: string, userId: string, cid: string, seq: number): void {
  if (!svc.config.inbox) return;
  const run = async () => {
    const read = await rows<{ id: string }>(
      svc.db,
      sql`update inbox_items i set read_at = now()
        from messages m
        where i.app_id = ${appId} and i.user_id = ${userId} and i.read_at is null
          and i.cid = ${cid} and i.kind in ('mention', 'dm')
          and m.app_id = i.app_id and m.id = i.message_id and m.parent_id is null and m.seq <= ${seq}
        returning i.id`,
    );
    if (read.length)
      await publishCounts(svc, appId, [userId], new Map(), new Map(), new Map([[userId, read.map((r) => r.id)]]));
  };
  track(
    svc,
    run().catch((err) => svc.log.error({ err }, 'inbox: channel read failed')),
  );
}

/**
 * After an edit commits: the people it newly mentions get a mention item — once: the item's
 * `dedupe` is the message's, so an edit that names someone again, or names someone the message
 * already reached (a thread reply), adds nothing — and the people it no longer mentions lose
 * their mention item of this message while it is unread (a read one stays: it was seen). That is
 * Slack's behaviour: a mention removed by an edit leaves the mentions list and the badge.
 */
export async function editedMentions(
  svc: Services,
  appId: string,
  messageId: string,
  added: readonly string[],
  removed: readonly string[],
): Promise<void> {
  if (removed.length) {
    const gone = await rows<{ id: string; user_id: string }>(
      svc.db,
      sql`delete from inbox_items
        where app_id = ${appId} and message_id = ${messageId} and kind = 'mention' and read_at is null
          and coalesce(via, '') <> 'channel'
          and user_id in (select jsonb_array_elements_text(${JSON.stringify(removed)}::jsonb))
        returning id, user_id`,
    );
    if (gone.length) {
      const byUser = new Map<string, string[]>();
      for (const g of gone) byUser.set(g.user_id, [...(byUser.get(g.user_id) ?? []), g.id]);
      await publishCounts(svc, appId, [...byUser.keys()], new Map(), byUser);
    }
  }
  if (added.length) await deriveMessageItems(svc, [{ appId, messageId }], new Map([[messageId, new Set(added)]]));
}

/**
 * After the tasks of these messages went with them (features/tasks): the `task` items about the
 * messages leave every inbox, read or not — they would open a task that is no more — and each
 * owner's connections hear `inbox.updated` with them `removed`. Rare (a deleted message that
 * had a task), so the app's items are filtered by kind and message rather than indexed for it.
 */
export async function removeTaskItems(svc: Services, appId: string, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length === 0) return;
  const gone = await rows<{ id: string; user_id: string }>(
    svc.db,
    sql`delete from inbox_items
      where app_id = ${appId} and kind = 'task'
        and message_id in (select (jsonb_array_elements_text(${JSON.stringify(messageIds)}::jsonb))::uuid)
      returning id, user_id`,
  );
  if (gone.length === 0) return;
  const byUser = new Map<string, string[]>();
  for (const g of gone) byUser.set(g.user_id, [...(byUser.get(g.user_id) ?? []), g.id]);
  await publishCounts(svc, appId, [...byUser.keys()], new Map(), byUser);
}

// ---- channel notes --------------------------------------------------------------------------

/**
 * After a channel note's create or edit commits: the people its text newly names — by
 * @username, or through a group's @handle — get a `note_mention` item, with the rules of a
 * message's mention: members of the note's channel only (so never anyone who cannot read it),
 * none for a muted channel or one set to `none`, never its author. Once per person and note:
 * names already in the previous text add nothing, and the item's `dedupe` is the note's.
 * @here and @channel in a note notify no one (a note is a document, not a broadcast).
 */
export async function noteMentions(
  svc: Services,
  n: { appId: string; noteId: string; cid: string; actorId: string; text: string; prevText: string },
): Promise<void> {
  const before = new Set(parseMentions(n.prevText).usernames);
  const names = parseMentions(n.text).usernames.filter((u) => !before.has(u));
  if (names.length === 0) return;
  const who = await rows<{ user_id: string; via: 'user' | 'group'; handle: string | null }>(
    svc.db,
    sql`with named as (select jsonb_array_elements_text(${JSON.stringify(names)}::jsonb) as name),
      reached as (
        select u.id as user_id, 'user' as via, null::text as handle from users u
          where u.app_id = ${n.appId} and lower(u.username) in (select name from named)
        union all
        select gm.user_id, 'group', g.handle from user_groups g
          join user_group_members gm on gm.app_id = g.app_id and gm.group_id = g.id
          where g.app_id = ${n.appId} and lower(g.handle) in (select name from named)
      )
      select r.user_id, r.via, r.handle from reached r
        join members m on m.app_id = ${n.appId} and m.cid = ${n.cid} and m.user_id = r.user_id
        left join channel_notification_settings o
          on o.app_id = ${n.appId} and o.user_id = r.user_id and o.cid = ${n.cid}
        where r.user_id <> ${n.actorId} and not m.muted and coalesce(o.level, '') <> 'none'`,
  );
  const best = new Map<string, (typeof who)[number]>();
  for (const w of who) if (!best.has(w.user_id) || w.via === 'user') best.set(w.user_id, w);
  await recordItems(
    svc,
    [...best.values()].map((w) => ({
      appId: n.appId,
      userId: w.user_id,
      kind: 'note_mention' as const,
      via: w.via,
      groupHandle: w.handle,
      cid: n.cid,
      noteId: n.noteId,
      actorId: n.actorId,
      dedupe: `n:${n.noteId}`,
    })),
  );
}

/** Wait until everything queued here has been recorded (shutdown, tests). */
export async function inboxSettled(svc: Services): Promise<void> {
  await recorders.get(svc)?.batcher.settled();
  await Promise.all([...(pending.get(svc) ?? [])]);
}

/** Who was invited to a channel, as invitation items (the inbox's task for `Services.invited`). */
export function invitationItems(
  appId: string,
  cid: string,
  actorId: string | null,
  userIds: string[],
  at: number,
): NewItem[] {
  return userIds.map((userId) => ({
    appId,
    userId,
    kind: 'invitation' as const,
    cid,
    actorId,
    dedupe: `inv:${cid}:${at}`,
  }));
}

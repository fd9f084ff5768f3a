/**
 * How items get into the activity inbox. Never on the send path's transaction: after a send
 * commits, its id is queued here (beside the push hand-off, notifications/trigger.ts), and the
 * ids of one turn (or of a 50 ms linger during a burst) are derived together — a fixed handful
 * of statements per batch, not per message:
 *
 * 1. the messages with their channel's type and, for replies, the thread's people;
 * 2. the mention flags the send wrote (user_message_flags: @name, @group, @here);
 * 3. the members' mute, channel level and — for @channel — who they are;
 * 4. the names the text says, against the recipients' usernames and the groups' handles, to tell
 *    `via` (user, group, here, channel);
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
 * than `inboxRetentionDays` (90; an hourly sweep per server, on a recording). The cost of recording after commit
 * rather than in the send's transaction: a crash in the window loses the inbox item of a
 * message just sent (its unread count and mention flag stay).
 */
import type { InboxItem, InboxKind } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { type Queryable, rows } from '../../platform/db/index.js';
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

export function presentStored(r: StoredItem): InboxItem {
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
  };
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
                event: { type: 'inbox.new', user_id: r.user_id, item: presentStored(r), created_at: iso(r.created_at) },
              });
          return got;
        });
  if (stored.length === 0) return;
  const byApp = new Map<string, Map<string, InboxItem>>();
  for (const r of stored) {
    const m = byApp.get(r.app_id) ?? new Map<string, InboxItem>();
    byApp.set(r.app_id, m);
    m.set(r.user_id, presentStored(r));
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

/** Record without failing the caller: the inbox is a courtesy, never a reason an action fails. */
export function recordLater(svc: Services, items: NewItem[]): void {
  if (items.length === 0 || !svc.config.inbox) return;
  const p = recordItems(svc, items).catch((err) => svc.log.error({ err }, 'inbox: record failed'));
  track(svc, p);
}

const pending = new WeakMap<Services, Set<Promise<unknown>>>();
function track(svc: Services, p: Promise<unknown>) {
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
  const messages = await rows<MessageFacts>(
    svc.db,
    sql`select t.app_id, t.id, t.cid, t.user_id, t.text, t.parent_id, t.mentioned_here, t.mentioned_channel,
        c.type as channel_type,
        case when t.parent_id is null then null
          else (select jsonb_build_array(p.user_id) || p.thread_participants from messages p
            where p.app_id = t.app_id and p.id = t.parent_id) end as thread_people
      from json_to_recordset(${keys}::json) as k(app_id uuid, id uuid)
      join messages t on t.app_id = k.app_id and t.id = k.id
      join channels c on c.app_id = t.app_id and c.cid = t.cid
      where t.deleted_at is null and t.type = 'regular' and not t.shadowed`,
  );
  if (messages.length === 0) return;
  const flags = await rows<{ app_id: string; message_id: string; user_id: string }>(
    svc.db,
    sql`select f.app_id, f.message_id, f.user_id
      from json_to_recordset(${keys}::json) as k(app_id uuid, id uuid)
      join user_message_flags f on f.app_id = k.app_id and f.message_id = k.id and f.mentioned`,
  );
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
  for (const f of flags) {
    const m = byId.get(f.message_id);
    if (m) add(m, { userId: f.user_id, kind: 'mention', via: null });
  }
  // @channel reaches every member (as its notification.new did): read them in one statement.
  const channelWide = messages.filter((m) => m.mentioned_channel || m.channel_type === 'dm');
  const members = channelWide.length
    ? await rows<{ app_id: string; cid: string; user_id: string }>(
        svc.db,
        sql`select m.app_id, m.cid, m.user_id from json_to_recordset(${JSON.stringify(
          channelWide.map((x) => ({ app_id: x.app_id, cid: x.cid })),
        )}::json) as k(app_id uuid, cid text)
          join members m on m.app_id = k.app_id and m.cid = k.cid`,
      )
    : [];
  const membersOf = (m: MessageFacts) =>
    members.filter((r) => r.app_id === m.app_id && r.cid === m.cid).map((r) => r.user_id);
  const dmUsers = new Set<string>();
  for (const m of messages) {
    if (m.mentioned_channel) for (const u of membersOf(m)) add(m, { userId: u, kind: 'mention', via: 'channel' });
    for (const u of m.thread_people ?? []) add(m, { userId: u, kind: 'thread', via: null });
    if (m.channel_type === 'dm' && m.user_id !== BOT)
      for (const u of membersOf(m)) {
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
  if (triples.length === 0) return;
  const facts = await rows<{ app_id: string; cid: string; user_id: string; silent: boolean; username: string | null }>(
    svc.db,
    sql`select k.app_id, k.cid, k.user_id,
        (m.user_id is null or m.muted or coalesce(o.level = 'none', false)) as silent,
        lower(u.username) as username
      from json_to_recordset(${JSON.stringify(triples)}::json) as k(app_id uuid, cid text, user_id text)
      left join members m on m.app_id = k.app_id and m.cid = k.cid and m.user_id = k.user_id
      left join channel_notification_settings o on o.app_id = k.app_id and o.user_id = k.user_id and o.cid = k.cid
      left join users u on u.app_id = k.app_id and u.id = k.user_id`,
  );
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
  await recordItems(svc, out);
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

/** Queue the inbox items of a message that has just committed. Never throws, never waits. */
export function recordMessage(svc: Services, appId: string, messageId: string): void {
  if (!svc.config.inbox) return;
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
export function recordEditedMentions(
  svc: Services,
  appId: string,
  messageId: string,
  added: readonly string[],
  removed: readonly string[],
): void {
  if (!svc.config.inbox || (added.length === 0 && removed.length === 0)) return;
  const run = async () => {
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
  };
  track(
    svc,
    run().catch((err) => svc.log.error({ err }, 'inbox: edit record failed')),
  );
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
export function recordNoteMentions(
  svc: Services,
  n: { appId: string; noteId: string; cid: string; actorId: string; text: string; prevText: string },
): void {
  if (!svc.config.inbox) return;
  const before = new Set(parseMentions(n.prevText).usernames);
  const names = parseMentions(n.text).usernames.filter((u) => !before.has(u));
  if (names.length === 0) return;
  const run = async () => {
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
  };
  track(
    svc,
    run().catch((err) => svc.log.error({ err }, 'inbox: note mentions failed')),
  );
}

/** Wait until everything queued here has been recorded (shutdown, tests). */
export async function inboxSettled(svc: Services): Promise<void> {
  await recorders.get(svc)?.batcher.settled();
  await Promise.all([...(pending.get(svc) ?? [])]);
}

/** Who was invited to a channel, as invitation items (`Services.invited`: channels calls it). */
export function recordInvitations(
  svc: Services,
  appId: string,
  cid: string,
  actorId: string | null,
  userIds: string[],
): void {
  recordLater(
    svc,
    userIds.map((userId) => ({
      appId,
      userId,
      kind: 'invitation' as const,
      cid,
      actorId,
      dedupe: `inv:${cid}:${Date.now()}`,
    })),
  );
}

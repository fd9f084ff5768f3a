/**
 * Merging an account's own workspace user into the imported person it claims late (claims.ts):
 * the account joined before it confirmed its address, so it has a user of its own (`from`,
 * `a_…`) with whatever it did meanwhile, and the import's person (`to`) has the history. Every
 * row that names `from` is made to name `to`, in the caller's transaction; then `from`'s user
 * row goes. `to` keeps its id, so the history, links and the @name stay as they were.
 *
 * Where both have a row under a unique key (both members of a channel, both reacted the same
 * way), one stays: the imported person's, except for what only the live account could have set
 * (its notification settings, sidebar, profile field values, place in a space: `keep: 'from'`).
 * A channel both were members of keeps the furthest read mark and the higher role. Two polls'
 * votes of one person would break a single-choice poll, so on a poll both voted in the imported
 * person's votes stay, and the tallies are counted again.
 *
 * Left as they were, on purpose: the audit log (a record of who did what, under the ids of the
 * time), the channels' event logs (history; a client resyncs to the stored rows), idempotency
 * keys (a day's retries). A DM the account had with someone the imported person also had one
 * with stays a second conversation with the same two people (its id is derived from the
 * members, so new messages go to the imported person's).
 *
 * `USER_COLUMNS` is the list; `claim-merge.test.ts` fails when a table gains a column that names
 * a user and is in neither it nor `OTHER_USER_COLUMNS`.
 */
import { MAX_POLL_VOTERS_SHOWN } from '@parley/protocol';
import { type SQL, sql } from 'drizzle-orm';
import { rows, type Tx } from '../../platform/db/index.js';
import { inList, recountReactions } from '../../platform/db/recount.js';
import { dropImage, type ImageRow } from '../../platform/storage/pictures.js';

/** A column that names a user, and what makes two rows of one person duplicates. */
export interface UserColumn {
  table: string;
  column: string;
  /**
   * The other columns of a unique key (or primary key) that holds `column`: a row of `from`
   * and one of `to` equal on them are duplicates. `[]`: one row per person. Absent: no key.
   */
  key?: readonly string[];
  /** Which duplicate stays: the imported person's (default) or the account's own. */
  keep?: 'from';
  /** A partial key: only rows with this value in this column can be duplicates. */
  only?: { column: string; value: string };
}

const OPEN = { column: 'status', value: 'open' };

/** Every column of the schema that names a user of the app and moves in a merge. */
export const USER_COLUMNS: readonly UserColumn[] = [
  { table: 'profile_field_values', column: 'user_id', key: ['field_id'], keep: 'from' },
  { table: 'channels', column: 'created_by' },
  // `members` first goes through mergeMembers (read marks, roles, counts).
  { table: 'members', column: 'user_id', key: ['cid'] },
  { table: 'messages', column: 'user_id' },
  { table: 'messages', column: 'pinned_by' },
  { table: 'reactions', column: 'user_id', key: ['message_id', 'type'] },
  // On a poll both voted in, the imported person's votes stay (see the top).
  { table: 'poll_votes', column: 'user_id', key: ['message_id'] },
  { table: 'custom_emoji', column: 'created_by' },
  { table: 'user_message_flags', column: 'user_id', key: ['message_id'] },
  { table: 'bans', column: 'user_id', key: ['cid'] },
  { table: 'bans', column: 'banned_by' },
  { table: 'user_mutes', column: 'user_id', key: ['muted_user_id'] },
  { table: 'user_mutes', column: 'muted_user_id', key: ['user_id'] },
  { table: 'moderation_flags', column: 'user_id', key: ['reported_by', 'message_id'], only: OPEN },
  { table: 'moderation_flags', column: 'reported_by', key: ['message_id', 'user_id'], only: OPEN },
  { table: 'moderation_flags', column: 'reviewed_by' },
  { table: 'files', column: 'user_id' },
  // A picture of each: mergePictures first; this moves the one left.
  { table: 'images', column: 'owner_id', key: ['owner_kind'] },
  { table: 'images', column: 'user_id' },
  { table: 'user_activity', column: 'user_id', key: ['day'] },
  { table: 'data_exports', column: 'user_id' },
  { table: 'data_exports', column: 'requested_by' },
  { table: 'invitations', column: 'from_user_id' },
  { table: 'invitations', column: 'to_user_id', key: ['kind', 'subject_id'] },
  { table: 'invitations', column: 'answered_by' },
  { table: 'calls', column: 'created_by' },
  { table: 'call_participants', column: 'user_id', key: ['call_id'] },
  { table: 'space_occupants', column: 'user_id', key: [], keep: 'from' },
  { table: 'notification_settings', column: 'user_id', key: [], keep: 'from' },
  { table: 'channel_notification_settings', column: 'user_id', key: ['cid'], keep: 'from' },
  { table: 'push_subscriptions', column: 'user_id' },
  { table: 'push_devices', column: 'user_id' },
  { table: 'push_bursts', column: 'user_id', key: ['collapse_key'], keep: 'from' },
  { table: 'reminders', column: 'user_id' },
  // Both starred sections: mergeSidebar first moves the account's channels into the imported one's.
  { table: 'sidebar_sections', column: 'user_id', key: [], only: { column: 'kind', value: 'starred' } },
  { table: 'sidebar_placements', column: 'user_id', key: ['cid'], keep: 'from' },
  { table: 'channel_bookmarks', column: 'created_by' },
  { table: 'saved_items', column: 'user_id', key: ['message_id'] },
  { table: 'scheduled_messages', column: 'user_id' },
  { table: 'last_channels', column: 'user_id', key: [], keep: 'from' },
  { table: 'notes', column: 'owner_id' },
  { table: 'notes', column: 'created_by' },
  { table: 'notes', column: 'updated_by' },
  { table: 'note_versions', column: 'user_id' },
  { table: 'user_groups', column: 'created_by' },
  { table: 'user_group_members', column: 'user_id', key: ['group_id'] },
  { table: 'inbox_items', column: 'user_id', key: ['dedupe'] },
  { table: 'inbox_items', column: 'actor_id' },
  { table: 'tasks', column: 'assignee_id' },
  { table: 'tasks', column: 'created_by' },
  { table: 'tasks', column: 'completed_by' },
  { table: 'channel_note_subscriptions', column: 'user_id', key: ['cid'] },
  { table: 'ephemeral_messages', column: 'user_id' },
  { table: 'workspace_members', column: 'user_id' },
];

/**
 * Columns named like a user's that `USER_COLUMNS` leaves, and why (claim-merge.test.ts reads
 * this): `import_claims` names the imported person already; `mention_names` is kept by triggers
 * on `users.username`; `audit_log` is history; `feature_flags.user_ids` is an array, swapped in
 * `mergeMessageCopies` with the messages' copies.
 */
export const OTHER_USER_COLUMNS: readonly string[] = [
  'feature_flags.user_ids',
  'import_claims.user_id',
  'mention_names.user_id',
  'audit_log.actor_id',
  'audit_log.target_id',
];

const id = (name: string) => sql.identifier(name);

/** `a.k1 = b.k1 and …` over the key's other columns (true for a one-row-per-person key). */
const sameKey = (key: readonly string[]): SQL =>
  key.length === 0
    ? sql`true`
    : sql.join(
        key.map((k) => sql`a.${id(k)} = b.${id(k)}`),
        sql` and `,
      );

/** Move one column from `from` to `to`, dropping one of each pair of duplicates first. */
async function moveColumn(tx: Tx, appId: string, c: UserColumn, from: string, to: string): Promise<void> {
  const t = id(c.table);
  const col = id(c.column);
  if (c.key) {
    const [loser, winner] = c.keep === 'from' ? [to, from] : [from, to];
    const only = c.only
      ? sql` and a.${id(c.only.column)} = ${c.only.value} and b.${id(c.only.column)} = ${c.only.value}`
      : sql``;
    await tx.execute(sql`delete from ${t} a where a.app_id = ${appId} and a.${col} = ${loser}
      and exists (select 1 from ${t} b where b.app_id = a.app_id and b.${col} = ${winner} and ${sameKey(c.key)}${only})`);
  }
  await tx.execute(sql`update ${t} set ${col} = ${to} where app_id = ${appId} and ${col} = ${from}`);
}

/** A channel both were members of: the furthest read mark, the higher role, one member fewer. */
async function mergeMembers(tx: Tx, appId: string, from: string, to: string): Promise<void> {
  const rank = (r: SQL) => sql`case ${r} when 'owner' then 3 when 'admin' then 2 when 'moderator' then 1 else 0 end`;
  const both = await rows<{ cid: string }>(
    tx,
    sql`update members t set
          last_read_seq = greatest(t.last_read_seq, f.last_read_seq),
          last_read_at = greatest(t.last_read_at, f.last_read_at),
          role = case when ${rank(sql`f.role`)} > ${rank(sql`t.role`)} then f.role else t.role end,
          muted = f.muted,
          joined_at = least(t.joined_at, f.joined_at),
          read_rev = nextval('member_read_rev')
        from members f
        where t.app_id = ${appId} and t.user_id = ${to}
          and f.app_id = t.app_id and f.cid = t.cid and f.user_id = ${from}
        returning t.cid`,
  );
  if (both.length)
    await tx.execute(sql`update channels set member_count = greatest(member_count - 1, 0)
      where app_id = ${appId} and cid in (${sql.join(
        both.map((b) => sql`${b.cid}`),
        sql`, `,
      )})`);
}

/**
 * Before anything moves, every channel `from` is in is locked, in the order the send path locks
 * channels (send-batch.ts: no deadlock), and touched. A send of `from`'s that holds one of them
 * commits first, and its message moves with the rest; one that waits for it then finds the
 * channel row changed, checks again against the stored rows and is refused (its author is gone).
 * Without this, a send with the old token in the instant of the merge kept the old id.
 */
async function lockChannels(tx: Tx, appId: string, from: string): Promise<void> {
  await tx.execute(sql`update channels c set updated_at = now()
    from (select k.cid from channels k join members m on m.app_id = k.app_id and m.cid = k.cid and m.user_id = ${from}
          where k.app_id = ${appId} order by k.cid for update of k) l
    where c.app_id = ${appId} and c.cid = l.cid`);
}

/** Both starred sections: the account's starred channels go into the imported person's. */
async function mergeSidebar(tx: Tx, appId: string, from: string, to: string): Promise<void> {
  await tx.execute(sql`update sidebar_placements p set section_id = t.id
    from sidebar_sections f, sidebar_sections t
    where p.app_id = ${appId} and p.user_id = ${from} and p.section_id = f.id
      and f.app_id = p.app_id and f.user_id = ${from} and f.kind = 'starred'
      and t.app_id = p.app_id and t.user_id = ${to} and t.kind = 'starred'`);
}

/** A picture of each: the account's (the newer choice) stays. Answers the dropped one, for its bytes. */
async function mergePictures(tx: Tx, appId: string, from: string, to: string): Promise<ImageRow | null> {
  const [has] = await rows<{ n: number }>(
    tx,
    sql`select count(*)::int as n from images where app_id = ${appId} and owner_kind = 'user' and owner_id = ${from}`,
  );
  if (!has?.n) return null;
  return dropImage(tx, appId, { kind: 'user', id: to });
}

/** In jsonb arrays of user ids: `from` becomes `to`, once, in its first place. */
const swapInArray = (col: string, from: string, to: string): SQL =>
  sql`(select coalesce(jsonb_agg(v order by o), '[]'::jsonb) from (
        select v, min(o) as o from (
          select case when e = to_jsonb(${from}::text) then to_jsonb(${to}::text) else e end as v, o
          from jsonb_array_elements(${id(col)}) with ordinality x(e, o)) s
        group by v) d)`;

/** Ids of the messages `user` has rows about in `table` (reactions, poll votes). */
const messagesOf = async (tx: Tx, table: string, appId: string, user: string) =>
  (
    await rows<{ id: string }>(
      tx,
      sql`select distinct message_id::text as id from ${id(table)} where app_id = ${appId} and user_id = ${user}`,
    )
  ).map((r) => r.id);

/**
 * Messages' copies of user ids: mentions and thread participants; the reaction counts and
 * latest reactions of `reacted`, and the tallies of the polls `voted` in, counted again from
 * their rows (a duplicate went).
 */
async function mergeMessageCopies(
  tx: Tx,
  appId: string,
  from: string,
  to: string,
  reacted: string[],
  voted: string[],
): Promise<void> {
  for (const col of ['mentioned_users', 'thread_participants'])
    await tx.execute(sql`update messages set ${id(col)} = ${swapInArray(col, from, to)}
      where app_id = ${appId} and ${id(col)} @> jsonb_build_array(${from}::text)`);
  await recountReactions(tx, appId, reacted);
  if (voted.length)
    await tx.execute(sql`
      update messages m set poll = jsonb_set(jsonb_set(m.poll, '{options}', coalesce((
          select jsonb_agg(o || jsonb_build_object(
            'vote_count', (select count(*)::int from poll_votes v
                           where v.app_id = m.app_id and v.message_id = m.id and v.option_id = o ->> 'id'),
            'voters', case when (m.poll ->> 'anonymous')::boolean then '[]'::jsonb else coalesce((
              select to_jsonb((array_agg(v.user_id order by v.created_at, v.user_id))[1:${MAX_POLL_VOTERS_SHOWN}])
              from poll_votes v where v.app_id = m.app_id and v.message_id = m.id and v.option_id = o ->> 'id'),
              '[]'::jsonb) end) order by i)
          from jsonb_array_elements(m.poll -> 'options') with ordinality x(o, i)), '[]'::jsonb)),
        '{voter_count}', to_jsonb((select count(distinct v.user_id)::int from poll_votes v
                                   where v.app_id = m.app_id and v.message_id = m.id)))
      where m.app_id = ${appId} and m.poll is not null and m.id::text in ${inList(voted)}`);
  await tx.execute(sql`update feature_flags set user_ids = array(select distinct x from unnest(array_replace(user_ids, ${from}, ${to})) x)
    where app_id = ${appId} and ${from} = any(user_ids)`);
}

/** What the account's own person set and lends the imported one (its name and role always). */
const LENT = [
  'image',
  'image_blurhash',
  'full_name',
  'title',
  'pronouns',
  'about',
  'phone',
  'time_zone',
  'status_text',
  'status_emoji',
  'status_expires_at',
  'reads_hidden_rev',
  'last_active_at',
];

/**
 * Make every row of `from` name `to` (see the top), and take over `from`'s person: its name,
 * role and profile where it set them; `to` keeps its @name, or takes `from`'s if it had none.
 * `from`'s user row goes. Answers a picture dropped, whose bytes go after the commit.
 */
export async function mergeUsers(tx: Tx, appId: string, from: string, to: string): Promise<ImageRow | null> {
  await lockChannels(tx, appId, from);
  const reacted = await messagesOf(tx, 'reactions', appId, from);
  const voted = await messagesOf(tx, 'poll_votes', appId, from);
  await mergeMembers(tx, appId, from, to);
  await mergeSidebar(tx, appId, from, to);
  const dropped = await mergePictures(tx, appId, from, to);
  for (const c of USER_COLUMNS) await moveColumn(tx, appId, c, from, to);
  // A person who muted themself across the two.
  await tx.execute(sql`delete from user_mutes where app_id = ${appId} and user_id = ${to} and muted_user_id = ${to}`);
  await mergeMessageCopies(tx, appId, from, to, reacted, voted);
  // The person: the account's @name is freed first (one name, one holder), then lent if `to` has none.
  const [own] = await rows<{ username: string | null }>(
    tx,
    sql`select username from users where app_id = ${appId} and id = ${from} for update`,
  );
  if (own?.username) await tx.execute(sql`update users set username = null where app_id = ${appId} and id = ${from}`);
  await tx.execute(sql`update users u set
      name = o.name, role = o.role, guest_until = o.guest_until,
      username = coalesce(u.username, ${own?.username ?? null}::text),
      ${sql.join(
        LENT.map((c) => sql`${id(c)} = coalesce(o.${id(c)}, u.${id(c)})`),
        sql`, `,
      )},
      updated_at = now()
    from users o
    where u.app_id = ${appId} and u.id = ${to} and o.app_id = u.app_id and o.id = ${from}`);
  await tx.execute(sql`delete from users where app_id = ${appId} and id = ${from}`);
  return dropped;
}

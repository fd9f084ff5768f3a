/**
 * QueryChannels: filter, sort and paginate the channels a caller may see, each with its last
 * message, the caller's unread and mention counts, and membership — in one statement over
 * the page, then one batched presentation of the last messages.
 */
import type { Channel, Member, QueryChannelsBody } from '@parley/protocol';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { rows as dbRows, schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { ownCapabilities } from '../permissions/index.js';
import { likePrefix } from '../users/index.js';
import { rankOf } from './access.js';
import { type ChannelRow, presentChannel, presentMember } from './present.js';

type MessageRow = typeof schema.messages.$inferSelect;
type Op<T> = T | { $eq?: T; $in?: T[] };

function opSql<T>(col: SQL, v: Op<T>): SQL {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as { $eq?: T; $in?: T[] };
    const parts: SQL[] = [];
    if (o.$eq !== undefined) parts.push(sql`${col} = ${o.$eq}`);
    if (o.$in !== undefined)
      parts.push(
        o.$in.length
          ? sql`${col} in (${sql.join(
              o.$in.map((x) => sql`${x}`),
              sql`, `,
            )})`
          : sql`false`,
      );
    return sql.join(parts, sql` and `);
  }
  return sql`${col} = ${v}`;
}

interface Cursor {
  t: string;
  c: string;
}

const encode = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decode(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    // `t` must be exactly what `encode` wrote (an ISO timestamp): anything else Date.parse
    // accepts ("1", "May 5") would reach PostgreSQL's timestamptz cast and fail there.
    if (
      typeof c.t === 'string' &&
      typeof c.c === 'string' &&
      !Number.isNaN(Date.parse(c.t)) &&
      new Date(c.t).toISOString() === c.t
    )
      return c;
  } catch {}
  throw invalid('Invalid cursor');
}

export async function queryChannels(
  svc: Services,
  caller: Caller,
  body: QueryChannelsBody,
): Promise<{ channels: Channel[]; next: string | null }> {
  const appId = caller.app.id;
  const me = caller.userId ?? '';
  const f = body.filter ?? {};
  const limit = body.limit ?? 30;
  const sortField = body.sort?.[0]?.field ?? 'last_message_at';
  const dir = body.sort?.[0]?.direction ?? -1;
  const sortExpr = sortField === 'created_at' ? sql`c.created_at` : sql`coalesce(c.last_message_at, c.created_at)`;

  const where: SQL[] = [sql`c.app_id = ${appId}`];
  // Server callers see every channel; users see their own and the open (public, announcement) ones.
  const staff = caller.kind === 'server';
  // An empty filter means the caller's channels; a `type` or `members` filter searches every
  // channel the caller may see (so `{type:'public'}` finds public channels to join).
  const joined =
    f.joined ?? (f.members === undefined && f.type === undefined && caller.kind === 'user' ? true : undefined);
  if (joined === true && caller.kind === 'user') where.push(sql`m.user_id is not null`);
  if (joined === false && caller.kind === 'user') where.push(sql`m.user_id is null`);
  // Guests (app role `guest`) see only their own channels: the browser shows them no others.
  if (!staff)
    where.push(sql`(m.user_id is not null or (c.type in ('public', 'announcement') and not exists (
      select 1 from ${schema.users} gu where gu.app_id = c.app_id and gu.id = ${me} and gu.role = 'guest')))`);
  if (f.cid !== undefined) where.push(opSql(sql`c.cid`, f.cid));
  if (f.type !== undefined) where.push(opSql(sql`c.type`, f.type));
  if (f.archived !== undefined) where.push(f.archived ? sql`c.archived_at is not null` : sql`c.archived_at is null`);
  if (f.name !== undefined) {
    if (typeof f.name === 'string') where.push(sql`c.name = ${f.name}`);
    else {
      if (f.name.$eq !== undefined) where.push(sql`c.name = ${f.name.$eq}`);
      if (f.name.$autocomplete !== undefined) where.push(sql`lower(c.name) like ${likePrefix(f.name.$autocomplete)}`);
    }
  }
  if (f.search !== undefined) {
    // Every word somewhere in the name, topic or description.
    for (const word of f.search.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8)) {
      const like = `%${word.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
      where.push(
        sql`(lower(coalesce(c.name, '')) like ${like} or lower(coalesce(c.topic, '')) like ${like} or lower(coalesce(c.description, '')) like ${like})`,
      );
    }
  }
  if (f.members !== undefined) {
    const ids =
      typeof f.members === 'string'
        ? [f.members]
        : [...(f.members.$in ?? []), ...(f.members.$eq ? [f.members.$eq] : [])];
    if (ids.length === 0) where.push(sql`false`);
    else
      where.push(sql`exists (select 1 from ${schema.members} mm where mm.app_id = c.app_id and mm.cid = c.cid
        and mm.user_id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )}))`);
  }
  if (body.cursor) {
    const cur = decode(body.cursor);
    where.push(
      dir === -1
        ? sql`(${sortExpr}, c.cid) < (${cur.t}::timestamptz, ${cur.c})`
        : sql`(${sortExpr}, c.cid) > (${cur.t}::timestamptz, ${cur.c})`,
    );
  }
  const order = dir === -1 ? sql`desc` : sql`asc`;

  const rows = await dbRows<Record<string, unknown>>(
    svc.db,
    sql`
    select p.*,
      case when p.m_user_id is null then null else (select count(*) from ${schema.messages} x
        where x.app_id = p.app_id and x.cid = p.cid and x.seq > p.m_last_read_seq and x.user_id <> p.m_user_id
          and x.type = 'regular' and (x.parent_id is null or x.show_in_channel)
          and not exists (select 1 from ${schema.userMutes} mu
            where mu.app_id = x.app_id and mu.user_id = p.m_user_id and mu.muted_user_id = x.user_id)
          and not x.shadowed) end as unread_count,
      case when p.m_user_id is null then null else (select count(*) from ${schema.messages} x
        where x.app_id = p.app_id and x.cid = p.cid and x.seq > p.m_last_read_seq and x.user_id <> p.m_user_id
          and x.type = 'regular' and (x.parent_id is null or x.show_in_channel)
          and not exists (select 1 from ${schema.userMutes} mu
            where mu.app_id = x.app_id and mu.user_id = p.m_user_id and mu.muted_user_id = x.user_id)
          and not x.shadowed
          and (x.mentioned_channel or exists (select 1 from ${schema.userMessageFlags} fl
            where fl.app_id = x.app_id and fl.user_id = p.m_user_id and fl.message_id = x.id and fl.mentioned))) end as mention_count,
      (select x.id from ${schema.messages} x where x.app_id = p.app_id and x.cid = p.cid
        and (x.parent_id is null or x.show_in_channel) and x.type <> 'deleted'
        and (not x.shadowed or x.user_id = ${me})
        and (p.m_user_id is null or not exists (select 1 from ${schema.userMutes} mu
            where mu.app_id = x.app_id and mu.user_id = p.m_user_id and mu.muted_user_id = x.user_id))
        order by x.seq desc limit 1) as last_message_id
    from (
      select c.*, ${sortExpr} as sort_at, m.user_id as m_user_id, m.role as m_role, m.last_read_seq as m_last_read_seq, m.read_rev as m_read_rev,
             m.muted as m_muted, m.joined_at as m_joined_at
      from ${schema.channels} c
      left join ${schema.members} m on m.app_id = c.app_id and m.cid = c.cid and m.user_id = ${me}
      where ${sql.join(where, sql` and `)}
      order by ${sortExpr} ${order}, c.cid ${order}
      limit ${limit + 1}
    ) p
    order by p.sort_at ${order}, p.cid ${order}`,
  );

  const hasMore = rows.length > limit;
  const pageRows = rows.slice(0, limit);
  const lastIds = pageRows.map((r) => r.last_message_id).filter((x): x is string => typeof x === 'string');
  const lastRows: MessageRow[] = lastIds.length
    ? await svc.db.query.messages.findMany({
        where: (t, { and, eq, inArray }) => and(eq(t.appId, appId), inArray(t.id, lastIds)),
      })
    : [];
  const presented = new Map((await svc.enrichMessages(svc.db, appId, caller.userId, lastRows)).map((m) => [m.id, m]));
  // DMs are named after their members, so a list carries them (one batched query per page).
  const dmCids = pageRows.filter((r) => r.type === 'dm').map((r) => String(r.cid));
  const dmMembers = new Map<string, Member[]>();
  if (dmCids.length) {
    const memberRows = await svc.db
      .select({ member: schema.members, user: schema.users })
      .from(schema.members)
      .leftJoin(
        schema.users,
        and(eq(schema.users.appId, schema.members.appId), eq(schema.users.id, schema.members.userId)),
      )
      .where(and(eq(schema.members.appId, appId), inArray(schema.members.cid, dmCids)))
      .orderBy(schema.members.joinedAt, schema.members.userId);
    // With their presence, so a list shows who is around before any presence event arrives.
    const states = await svc.presence.statesOf(appId, [...new Set(memberRows.map((r) => r.member.userId))]);
    for (const r of memberRows) {
      const m = presentMember(r.member, r.user, caller.userId ?? 'everyone');
      if (m.user) m.user.presence = states.get(r.member.userId) ?? 'offline';
      dmMembers.set(r.member.cid, [...(dmMembers.get(r.member.cid) ?? []), m]);
    }
  }

  // own_capabilities: the permission model needs the caller's user row (role, ban, guest time).
  const [meRow] = caller.userId
    ? await svc.db
        .select()
        .from(schema.users)
        .where(and(eq(schema.users.appId, appId), eq(schema.users.id, caller.userId)))
        .limit(1)
    : [];
  const now = svc.clock();
  const channels = pageRows.map((r) => {
    const row = rowToChannel(r);
    const member =
      r.m_user_id === null
        ? null
        : {
            appId,
            cid: row.cid,
            userId: String(r.m_user_id),
            role: String(r.m_role),
            lastReadSeq: Number(r.m_last_read_seq),
            readRev: Number(r.m_read_rev),
            muted: Boolean(r.m_muted),
            joinedAt: toDate(r.m_joined_at),
          };
    const access = {
      channel: row,
      member,
      user: meRow ?? null,
      caller,
      rank: rankOf(caller, member, meRow?.role ?? null),
    };
    return presentChannel(row, {
      own_capabilities: ownCapabilities(access, now),
      ...(row.type === 'dm' ? { members: dmMembers.get(row.cid) ?? [] } : {}),
      last_message: typeof r.last_message_id === 'string' ? (presented.get(r.last_message_id) ?? null) : null,
      unread_count: r.unread_count === null ? 0 : Number(r.unread_count),
      mention_count: r.mention_count === null ? 0 : Number(r.mention_count),
      membership:
        r.m_user_id === null
          ? null
          : {
              role: r.m_role as 'member',
              last_read_seq: Number(r.m_last_read_seq),
              read_rev: Number(r.m_read_rev),
              muted: Boolean(r.m_muted),
              joined_at: toDate(r.m_joined_at).toISOString(),
            },
    });
  });
  const last = pageRows.at(-1);
  return {
    channels,
    next: hasMore && last ? encode({ t: toDate(last.sort_at).toISOString(), c: String(last.cid) }) : null,
  };
}

const toDate = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));
const toDateOrNull = (v: unknown) => (v === null || v === undefined ? null : toDate(v));

function rowToChannel(r: Record<string, unknown>): ChannelRow {
  return {
    appId: String(r.app_id),
    cid: String(r.cid),
    type: String(r.type),
    id: String(r.id),
    name: (r.name as string | null) ?? null,
    description: (r.description as string | null) ?? null,
    topic: (r.topic as string | null) ?? null,
    image: (r.image as string | null) ?? null,
    createdBy: (r.created_by as string | null) ?? null,
    archivedAt: toDateOrNull(r.archived_at),
    lastSeq: Number(r.last_seq),
    lastMessageAt: toDateOrNull(r.last_message_at),
    memberCount: Number(r.member_count),
    frozen: Boolean(r.frozen),
    slowModeS: Number(r.slow_mode_s ?? 0),
    reactions: String(r.reactions ?? 'members'),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

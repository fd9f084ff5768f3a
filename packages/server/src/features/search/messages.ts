/**
 * Message search over what the caller may read: public and announcement channels of the app,
 * and the groups and DMs they are a member of now (threads included). Deleted messages have
 * no search vector (the trigger in migration 0004 clears it), edits re-index in the same
 * transaction, and every query is scoped to the caller's app by its first condition.
 *
 * Ranking: `newest` walks matches newest first with a keyset cursor. `relevance` ranks
 * (`ts_rank_cd`) the newest RELEVANCE_WINDOW matches, so a common word costs the same on a
 * million messages as on a thousand; a query without words is always newest first.
 */
import { createHash } from 'node:crypto';
import type { Message, SearchHit, SearchMessagesQuery, SearchMessagesResponse } from '@parley/protocol';
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { rows, schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { enrichMessages } from '../messages/index.js';
import { shadowVisible } from '../moderation/index.js';
import { renderSnippet } from './highlight.js';
import { isEmptyQuery, type ParsedQuery, parseQuery } from './query.js';

/** How many of the newest matches `relevance` ranks. */
export const RELEVANCE_WINDOW = 300;
const DEFAULT_LIMIT = 20;
/** Messages up to this long are shown whole, highlighted; longer ones as their best fragments. */
const WHOLE_UP_TO = 280;
const OPEN_TYPES = sql`('public', 'announcement')`;

type Cursor = { h: string; t: string; id: string } | { h: string; o: number };

const fingerprint = (q: string, sort: string) =>
  createHash('sha256').update(`${sort}\n${q}`).digest('base64url').slice(0, 12);

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string, h: string): Cursor {
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid('Invalid cursor');
  }
  const o = c as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.h !== 'string') throw invalid('Invalid cursor');
  if (o.h !== h) throw invalid('This cursor belongs to another search (query or sort changed)');
  if (typeof o.o === 'number' && Number.isSafeInteger(o.o) && o.o >= 0 && o.o < RELEVANCE_WINDOW)
    return { h: o.h, o: o.o };
  if (
    typeof o.t === 'string' &&
    typeof o.id === 'string' &&
    !Number.isNaN(Date.parse(o.t)) &&
    /^[0-9a-f-]{36}$/.test(o.id)
  )
    return { h: o.h, t: o.t, id: o.id };
  throw invalid('Invalid cursor');
}

/** Users named by `@username` or id (`me` is the caller); an unknown name matches nobody. */
async function resolveUsers(svc: Services, caller: Caller, names: string[]): Promise<string[]> {
  const direct = names.filter((n) => n.toLowerCase() === 'me' && caller.userId).map(() => caller.userId as string);
  const others = names.filter((n) => n.toLowerCase() !== 'me');
  if (others.length === 0) return direct;
  const u = schema.users;
  const found = await rows<{ id: string }>(
    svc.db,
    sql`select ${u.id} as id from ${u} where ${u.appId} = ${caller.app.id} and (${u.id} in ${others} or lower(${u.username}) in ${others.map((n) => n.toLowerCase())})`,
  );
  return [...direct, ...found.map((r) => r.id)];
}

/** The conditions of one parsed query over `m` (the messages table); null = nothing can match. */
async function conditions(svc: Services, caller: Caller, p: ParsedQuery): Promise<SQL[] | null> {
  const appId = caller.app.id;
  const out: SQL[] = [sql`m.app_id = ${appId}`, sql`m.deleted_at is null`, sql`m.type = 'regular'`];
  if (caller.kind === 'user')
    out.push(
      // Guests (app role `guest`) search only their own channels: no channel is open to them.
      sql`m.cid in (select cid from members where app_id = ${appId} and user_id = ${caller.userId} union all select cid from channels where app_id = ${appId} and type in ${OPEN_TYPES}
        and not exists (select 1 from users gu where gu.app_id = ${appId} and gu.id = ${caller.userId} and gu.role = 'guest'))`,
    );
  // Shadowed messages only for their author and moderators (moderation/shadow.ts).
  const visible = shadowVisible(caller, sql`m.shadowed`, sql`m.user_id`);
  if (visible) out.push(visible);
  // Users the caller muted are left out of their results (moderation/mutes.ts).
  if (caller.userId)
    out.push(
      sql`not exists (select 1 from user_mutes mu where mu.app_id = ${appId} and mu.user_id = ${caller.userId} and mu.muted_user_id = m.user_id)`,
    );
  // Each operator repeated narrows (from:@a from:@b = neither can be both; in:, to: the same).
  for (const name of p.from) {
    const ids = await resolveUsers(svc, caller, [name]);
    if (ids.length === 0) return null;
    out.push(sql`m.user_id in ${ids}`);
  }
  for (const name of p.mentions) {
    const ids = await resolveUsers(svc, caller, [name]);
    if (ids.length === 0) return null;
    out.push(
      sql`(${sql.join(
        ids.map((id) => sql`m.mentioned_users @> jsonb_build_array(${id}::text)`),
        sql` or `,
      )})`,
    );
  }
  for (const name of p.in) {
    const c = schema.channels;
    const found = await rows<{ cid: string }>(
      svc.db,
      sql`select ${c.cid} as cid from ${c} where ${c.appId} = ${appId} and (${c.cid} = ${name} or ${c.id} = ${name} or lower(${c.name}) = ${name.toLowerCase()})`,
    );
    if (found.length === 0) return null;
    out.push(sql`m.cid in ${found.map((r) => r.cid)}`);
  }
  for (const name of p.to) {
    const ids = await resolveUsers(svc, caller, [name]);
    if (ids.length === 0) return null;
    // DMs where that user is a member (the caller's own membership is the scope above).
    out.push(
      sql`m.cid in (select mb.cid from members mb join channels ch on ch.app_id = mb.app_id and ch.cid = mb.cid where mb.app_id = ${appId} and mb.user_id in ${ids} and ch.type = 'dm')`,
    );
  }
  if (p.has.has('link')) out.push(sql`m.text ~* 'https?://'`);
  if (p.has.has('reaction')) out.push(sql`m.reaction_counts <> '{}'::jsonb`);
  if (p.has.has('file')) out.push(hasFile());
  if (p.is.has('thread')) out.push(sql`(m.parent_id is not null or m.reply_count > 0)`);
  if (p.is.has('pinned')) out.push(sql`m.pinned_at is not null`);
  if (p.since) out.push(sql`m.created_at >= ${p.since.toISOString()}::timestamptz`);
  if (p.until) out.push(sql`m.created_at < ${p.until.toISOString()}::timestamptz`);
  return out;
}

/** `has:file`: messages that carry at least one attachment. */
function hasFile(): SQL {
  return sql`m.attachments <> '[]'::jsonb`;
}

export async function searchMessages(
  svc: Services,
  caller: Caller,
  input: SearchMessagesQuery,
): Promise<SearchMessagesResponse> {
  const p = parseQuery(input.q);
  if (isEmptyQuery(p)) throw invalid('Say what to find: a word, a "phrase" or a filter such as from:@ann');
  const limit = input.limit ?? DEFAULT_LIMIT;
  const conds = await conditions(svc, caller, p);
  if (!conds) return { results: [], next: null };

  // The app's language, and whether the words leave anything to search for in it: a query of
  // stop words only (`the`, `"to be"`) is looked for as text instead.
  const [app] = await rows<{ cfg: string; nodes: number }>(
    svc.db,
    sql`select search_language as cfg, numnode(websearch_to_tsquery(search_language::regconfig, ${p.text})) as nodes
        from apps where id = ${caller.app.id}`,
  );
  const cfg = app?.cfg ?? 'english';
  if (p.text !== '' && !app?.nodes) {
    for (const w of p.words) (w.negated ? p.notSubstrings : p.substrings).push(w.text);
    p.text = '';
  }
  const tq = sql`websearch_to_tsquery(${cfg}::regconfig, ${p.text})`;
  if (p.text !== '') conds.push(sql`m.search_tsv @@ ${tq}`);
  for (const s of p.substrings) conds.push(sql`strpos(lower(m.text), lower(${s})) > 0`);
  for (const s of p.notSubstrings) conds.push(sql`strpos(lower(m.text), lower(${s})) = 0`);
  const where = sql.join(conds, sql` and `);
  const sort = p.text === '' ? 'newest' : (input.sort ?? 'relevance');
  const h = fingerprint(input.q, sort);
  const cursor = input.cursor ? decodeCursor(input.cursor, h) : null;

  let ids: { id: string; created_at: string }[];
  let next: Cursor | null = null;
  if (sort === 'newest') {
    const after =
      cursor && 't' in cursor ? sql` and (m.created_at, m.id) < (${cursor.t}::timestamptz, ${cursor.id}::uuid)` : sql``;
    ids = await rows(
      svc.db,
      sql`select m.id, m.created_at from messages m where ${where}${after} order by m.created_at desc, m.id desc limit ${limit + 1}`,
    );
    if (ids.length > limit) {
      const last = ids[limit - 1] as { id: string; created_at: string };
      next = { h, t: new Date(last.created_at).toISOString(), id: last.id };
    }
  } else {
    const offset = cursor && 'o' in cursor ? cursor.o : 0;
    ids = await rows(
      svc.db,
      sql`with hits as (
            select m.id, m.created_at, ts_rank_cd(m.search_tsv, ${tq}) as rank
            from messages m where ${where}
            order by m.created_at desc, m.id desc limit ${RELEVANCE_WINDOW})
          select id, created_at from hits order by rank desc, created_at desc, id desc
          offset ${offset} limit ${limit + 1}`,
    );
    if (ids.length > limit && offset + limit < RELEVANCE_WINDOW) next = { h, o: offset + limit };
  }
  const page = ids.slice(0, limit).map((r) => r.id);
  if (page.length === 0) return { results: [], next: null };

  const m = schema.messages;
  const [messageRows, heads] = await Promise.all([
    svc.db
      .select()
      .from(m)
      .where(and(eq(m.appId, caller.app.id), inArray(m.id, page))),
    p.text === ''
      ? Promise.resolve([] as { id: string; hl: string }[])
      : rows<{ id: string; hl: string }>(
          svc.db,
          sql`select m.id, ts_headline(${cfg}::regconfig,
                translate(m.text, '<>' || chr(1) || chr(2) || chr(3) || chr(4), chr(1) || chr(4) || '    '),
                ${tq},
                'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', ' || case when length(m.text) <= ${WHOLE_UP_TO}
                  then 'HighlightAll=true'
                  else 'MaxWords=35, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "' end) as hl
              from messages m where m.app_id = ${caller.app.id} and m.id in ${page}`,
        ),
  ]);
  const byId = new Map(messageRows.map((r) => [r.id, r]));
  const ordered = page.map((id) => byId.get(id)).filter((r) => r !== undefined);
  const cids = [...new Set(ordered.map((r) => r.cid))];
  const c = schema.channels;
  const [messages, channels] = await Promise.all([
    enrichMessages(svc.db, caller.app.id, caller.userId, ordered),
    svc.db
      .select({ cid: c.cid, type: c.type, name: c.name })
      .from(c)
      .where(and(eq(c.appId, caller.app.id), inArray(c.cid, cids))),
  ]);
  const headOf = new Map(heads.map((x) => [x.id, x.hl]));
  const channelOf = new Map(channels.map((x) => [x.cid, x]));
  const results: SearchHit[] = [];
  messages.forEach((msg: Message, i) => {
    const row = ordered[i];
    const ch = channelOf.get(msg.cid);
    if (!row || !ch) return;
    results.push({
      message: msg,
      channel: { cid: ch.cid, type: ch.type as SearchHit['channel']['type'], name: ch.name },
      highlight: renderSnippet(row.text, headOf.get(row.id) ?? null, p.substrings),
    });
  });
  return { results, next: next ? encodeCursor(next) : null };
}

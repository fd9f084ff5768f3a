/**
 * Every channel of an app, for its admins (`GET /v1/channels`, the admin console's Channels
 * tab): members or not, archived or not, each with its moderation settings and member count.
 * Unlike QueryChannels this is not the caller's view (no unread counts, no last message, no
 * membership), so it costs one statement per page. DMs are left out: no one may moderate them
 * (`freeze-channel` is `nobody` for `dm`), and listing them would show an admin who talks to
 * whom. Keyset paging on (lower(name or id), cid): a cursor names the last row of the page,
 * so channels created or renamed while an admin pages neither shift nor repeat a page.
 */
import { ADMIN_CHANNELS_MAX_LIMIT, type AdminChannelsQuery, type Channel } from '@parley/protocol';
import { type SQL, sql } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { presentChannel } from './present.js';

interface Cursor {
  n: string;
  c: string;
}

const encode = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decode(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.n === 'string' && typeof c.c === 'string') return c;
  } catch {}
  throw invalid('Invalid cursor');
}

const t = schema.channels;
/** The sort key: what the list shows as the channel's name, case-folded. */
const sortKey = sql`lower(coalesce(${t.name}, ${t.id}))`;

export async function listAppChannels(
  svc: Services,
  appId: string,
  q: AdminChannelsQuery,
): Promise<{ channels: Channel[]; next: string | null }> {
  const limit = Math.min(q.limit ?? 50, ADMIN_CHANNELS_MAX_LIMIT);
  const where: SQL[] = [sql`${t.appId} = ${appId}`, sql`${t.type} <> 'dm'`];
  if (q.type) where.push(sql`${t.type} = ${q.type}`);
  if (q.state === 'frozen') where.push(sql`${t.frozen}`);
  if (q.state === 'slow_mode') where.push(sql`${t.slowModeS} > 0`);
  for (const word of (q.q ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8)) {
    const like = `%${word.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    where.push(sql`(lower(coalesce(${t.name}, '')) like ${like} or lower(${t.cid}) like ${like})`);
  }
  if (q.cursor) {
    const cur = decode(q.cursor);
    where.push(sql`(${sortKey}, ${t.cid}) > (${cur.n}, ${cur.c})`);
  }
  const rows = await svc.db
    .select({ row: t, key: sql<string>`${sortKey}` })
    .from(t)
    .where(sql.join(where, sql` and `))
    .orderBy(sortKey, t.cid)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    channels: page.map((r) => presentChannel(r.row)),
    next: rows.length > limit && last ? encode({ n: last.key, c: last.row.cid }) : null,
  };
}

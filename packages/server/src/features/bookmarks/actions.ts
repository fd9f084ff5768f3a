/**
 * Channel bookmarks: links and files pinned to a channel's header bar, in order, by members
 * with `manage-bookmarks` (permissions/policy.ts); anyone who may read the channel sees them.
 * Every change locks the channel row (as every writer of a channel does), rewrites what it
 * must, and publishes the whole bar as `bookmarks.updated` to the channel's subscribers after
 * commit. A link's title, site and icon come from the link preview cache, filled in by the
 * `bookmarks.unfurl` job (jobs.ts) once the link is added.
 *
 * `listChannelFiles` is the channel's Files tab: every file a message there carries.
 */
import {
  type Attachment,
  type ChannelBookmark,
  type ChannelFilesQuery,
  type CreateBookmarkBody,
  MAX_BOOKMARKS,
  type ReorderBookmarksBody,
  uuidv7,
} from '@parley/protocol';
import { and, asc, desc, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { accessChannelRead } from '../channels/index.js';
import { accessChannelFiles, presentAttachment } from '../files/index.js';
import { normalizeUrl } from '../links/index.js';
import { checkCan } from '../permissions/index.js';
import { UNFURL_BOOKMARK } from './job-names.js';

type Row = typeof schema.channelBookmarks.$inferSelect;
const b = schema.channelBookmarks;

export function presentBookmark(r: Row): ChannelBookmark {
  return {
    id: r.id,
    cid: r.cid,
    kind: r.kind as ChannelBookmark['kind'],
    url: r.kind === 'file' ? `/v1/files/${r.fileId}` : (r.url ?? ''),
    file_id: r.fileId,
    title: r.title,
    site_name: r.siteName,
    icon_url: r.iconUrl,
    position: r.position,
    created_by: r.createdBy,
    created_at: r.createdAt.toISOString(),
  };
}

async function rowsOf(q: Queryable, appId: string, cid: string): Promise<Row[]> {
  return q
    .select()
    .from(b)
    .where(and(eq(b.appId, appId), eq(b.cid, cid)))
    .orderBy(asc(b.position), asc(b.id));
}

/** `GET /v1/channels/{cid}/bookmarks`: whoever may read the channel. */
export async function listBookmarks(svc: Services, caller: Caller, cid: string): Promise<ChannelBookmark[]> {
  await accessChannelRead(svc.db, caller, cid);
  return (await rowsOf(svc.db, caller.app.id, cid)).map(presentBookmark);
}

/** Tell the channel its bar as it now stands (inside the change's transaction, sent after commit). */
export async function announceBookmarks(tx: Queryable, out: Outbox, appId: string, cid: string, at: number) {
  const bookmarks = (await rowsOf(tx, appId, cid)).map(presentBookmark);
  out.push({
    to: 'channel',
    appId,
    cid,
    event: { type: 'bookmarks.updated', cid, bookmarks, created_at: new Date(at).toISOString() },
  });
  return bookmarks;
}

/** One change by a member with `manage-bookmarks`, the channel row locked. */
async function changeBookmarks<T>(
  svc: Services,
  caller: Caller,
  cid: string,
  fn: (tx: Tx, rows: Row[]) => Promise<T>,
): Promise<{ result: T; bookmarks: ChannelBookmark[] }> {
  return withTransaction(svc, async (tx, out) => {
    const a = await accessChannelRead(tx, caller, cid, true);
    checkCan(a, 'manage-bookmarks', svc.clock());
    const result = await fn(tx, await rowsOf(tx, caller.app.id, cid));
    const bookmarks = await announceBookmarks(tx, out, caller.app.id, cid, svc.clock());
    return { result, bookmarks };
  });
}

async function writeOrder(tx: Tx, appId: string, rows: Row[], ids: string[]) {
  const at = new Map(rows.map((r) => [r.id, r.position]));
  for (const [i, id] of ids.entries())
    if (at.get(id) !== i)
      await tx
        .update(b)
        .set({ position: i })
        .where(and(eq(b.appId, appId), eq(b.id, id)));
}

/** Add a link or a file of this channel to its bar (last). */
export async function addBookmark(
  svc: Services,
  caller: Caller,
  cid: string,
  body: CreateBookmarkBody,
): Promise<ChannelBookmark> {
  if ((body.url === undefined) === (body.file_id === undefined)) throw invalid('Give exactly one of url and file_id');
  let url: string | null = null;
  let title = body.title?.trim() ?? null;
  if (body.url !== undefined) {
    url = normalizeUrl(body.url);
    if (!url) throw invalid('url is not an http(s) link');
  }
  const appId = caller.app.id;
  const { result } = await changeBookmarks(svc, caller, cid, async (tx, rows) => {
    if (rows.length >= MAX_BOOKMARKS) throw invalid(`At most ${MAX_BOOKMARKS} bookmarks a channel`);
    if (body.file_id) {
      const f = schema.files;
      const [file] = await tx
        .select({ name: f.name })
        .from(f)
        .where(and(eq(f.appId, appId), eq(f.id, body.file_id), eq(f.cid, cid), isNotNull(f.messageId)));
      // A file is bookmarked where it was shared; any other (or one no message carries) is none.
      if (!file) throw notFound('File');
      title ??= file.name;
    }
    const [row] = await tx
      .insert(b)
      .values({
        appId,
        id: uuidv7(),
        cid,
        kind: body.file_id ? 'file' : 'link',
        url,
        fileId: body.file_id ?? null,
        title: title ?? new URL(url as string).host,
        titleSet: body.title !== undefined,
        position: rows.length,
        createdBy: caller.userId ?? 'server',
      })
      .returning();
    if (url && svc.config.linkPreviews)
      await svc.jobs.enqueue(tx, UNFURL_BOOKMARK, { appId, id: (row as Row).id, userId: caller.userId ?? 'server' });
    return row as Row;
  });
  if (url && svc.config.linkPreviews) svc.jobs.wake(UNFURL_BOOKMARK.name);
  return presentBookmark(result);
}

async function ownRow(tx: Queryable, appId: string, cid: string, id: string): Promise<Row> {
  const [row] = await tx
    .select()
    .from(b)
    .where(and(eq(b.appId, appId), eq(b.cid, cid), eq(b.id, id)));
  if (!row) throw notFound('Bookmark');
  return row;
}

/** Rename a bookmark (its title is then kept over the preview's). */
export async function renameBookmark(
  svc: Services,
  caller: Caller,
  cid: string,
  id: string,
  title: string,
): Promise<ChannelBookmark> {
  const { result } = await changeBookmarks(svc, caller, cid, async (tx) => {
    await ownRow(tx, caller.app.id, cid, id);
    const [row] = await tx
      .update(b)
      .set({ title: title.trim(), titleSet: true })
      .where(and(eq(b.appId, caller.app.id), eq(b.id, id)))
      .returning();
    return row as Row;
  });
  return presentBookmark(result);
}

/** Remove a bookmark; the rest close up. */
export async function removeBookmark(svc: Services, caller: Caller, cid: string, id: string) {
  const { bookmarks } = await changeBookmarks(svc, caller, cid, async (tx, rows) => {
    await ownRow(tx, caller.app.id, cid, id);
    await tx.delete(b).where(and(eq(b.appId, caller.app.id), eq(b.id, id)));
    const rest = rows.filter((r) => r.id !== id);
    await writeOrder(
      tx,
      caller.app.id,
      rest,
      rest.map((r) => r.id),
    );
  });
  return bookmarks;
}

/** Put the bar in this order: every bookmark id of the channel, each once. */
export async function reorderBookmarks(svc: Services, caller: Caller, cid: string, body: ReorderBookmarksBody) {
  const { bookmarks } = await changeBookmarks(svc, caller, cid, async (tx, rows) => {
    const ids = new Set(rows.map((r) => r.id));
    const missing = rows.filter((r) => !body.bookmark_ids.includes(r.id)).map((r) => r.id);
    const unknown = body.bookmark_ids.filter((x) => !ids.has(x));
    if (missing.length || unknown.length)
      throw invalid("bookmark_ids must name each of the channel's bookmarks exactly once", { missing, unknown });
    await writeOrder(tx, caller.app.id, rows, body.bookmark_ids);
  });
  return bookmarks;
}

/**
 * `GET /v1/channels/{cid}/files`: the files messages in the channel carry (not deleted ones),
 * newest first, of one `kind` if asked; for those who may download them (its members).
 */
export async function listChannelFiles(
  svc: Services,
  caller: Caller,
  cid: string,
  q: ChannelFilesQuery,
): Promise<{ files: Attachment[]; next?: string }> {
  await accessChannelFiles(svc, caller, cid);
  const f = schema.files;
  const m = schema.messages;
  const limit = q.limit ?? 50;
  const conds = [eq(f.appId, caller.app.id), eq(f.cid, cid), isNotNull(f.messageId), isNull(m.deletedAt)];
  // A shadow-banned author's files stay theirs (as their messages do).
  const visible = or(eq(m.shadowed, false), eq(m.userId, caller.userId ?? ''));
  if (caller.kind === 'user' && visible) conds.push(visible);
  if (q.kind) conds.push(eq(f.kind, q.kind));
  if (q.cursor) conds.push(lt(f.id, q.cursor));
  const rows = await svc.db
    .select({ file: f })
    .from(f)
    .innerJoin(m, and(eq(m.appId, f.appId), eq(m.id, f.messageId)))
    .where(and(...conds))
    .orderBy(desc(f.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map((r) => presentAttachment(r.file));
  return rows.length > limit ? { files: page, next: page.at(-1)?.id as string } : { files: page };
}

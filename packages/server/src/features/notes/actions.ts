/**
 * Notes: personal notes (private to their owner) and channel notes (read by whoever may read
 * the channel, written per `edit-channel-notes`). Each write runs in one transaction that
 * locks the note's row, bumps `version`, keeps the new version in `note_versions`, and
 * publishes its event after commit (`note.updated` to the channel, `personal_note.updated` to
 * the owner's connections). A channel note's change is news for its channel's note followers
 * (subscriptions.ts).
 *
 * Concurrent edits: an update names its `base_version`. Behind the current version, the text
 * is merged line by line against the base's kept text (merge.ts); a clash is refused with
 * CONFLICT carrying the current note and the caller's text, and nothing is written.
 */
import type { CreateNoteBody, Note, NoteConflict, NoteVersion, UpdateNoteBody } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { and, asc, desc, eq, ilike, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { ApiError, invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { accessChannelRead, loadChannel } from '../channels/index.js';
import { holdInboxTask } from '../inbox/index.js';
import { can, checkCan } from '../permissions/index.js';
import { parseMentions } from '../users/index.js';
import { merge3 } from './merge.js';
import { holdNoteFollowers } from './subscriptions.js';

type NoteRow = typeof schema.notes.$inferSelect;
type VersionRow = typeof schema.noteVersions.$inferSelect;
type Me = Caller & { kind: 'user' };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** At most this many live notes per owner or per channel: a scratchpad, not a file store. */
export const MAX_NOTES = 500;

export function presentNote(r: NoteRow): Note {
  return {
    id: r.id,
    cid: r.cid,
    owner_id: r.ownerId,
    title: r.title,
    text: r.text,
    version: r.version,
    created_by: r.createdBy,
    updated_by: r.updatedBy,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    deleted_at: iso(r.deletedAt),
  };
}

export function presentVersion(v: VersionRow): NoteVersion {
  return {
    note_id: v.noteId,
    version: v.version,
    title: v.title,
    text: v.text,
    user_id: v.userId,
    merged: v.merged,
    created_at: v.createdAt.toISOString(),
  };
}

/**
 * The note `id` as the caller may see it, or NOT_FOUND: personal notes only for their owner,
 * channel notes for whoever may read the channel. `write`: also `edit-channel-notes`.
 */
export async function accessNote(q: Queryable, me: Me, id: string, write = false, lock = false): Promise<NoteRow> {
  const query = q
    .select()
    .from(schema.notes)
    .where(and(eq(schema.notes.appId, me.app.id), eq(schema.notes.id, id), isNull(schema.notes.deletedAt)))
    .limit(1);
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound('Note');
  if (row.cid === null) {
    if (row.ownerId !== me.userId) throw notFound('Note');
    return row;
  }
  const a = await accessChannelRead(q, me, row.cid).catch((err: unknown) => {
    // A channel the caller may not read hides its notes the same way.
    if (err instanceof ApiError && err.code === 'NOT_FOUND') throw notFound('Note');
    throw err;
  });
  if (write) checkCan(a, 'edit-channel-notes');
  return row;
}

function tell(out: Outbox, appId: string, row: NoteRow, type: 'updated' | 'deleted', at: Date) {
  const note = presentNote(row);
  const created_at = at.toISOString();
  if (row.cid)
    out.push({ to: 'channel', appId, cid: row.cid, event: { type: `note.${type}`, cid: row.cid, note, created_at } });
  else if (row.ownerId)
    out.push({ to: 'user', appId, userId: row.ownerId, event: { type: `personal_note.${type}`, note, created_at } });
}

async function countLive(tx: Tx, appId: string, owner: { cid: string } | { ownerId: string }) {
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(schema.notes)
    .where(
      and(
        eq(schema.notes.appId, appId),
        'cid' in owner ? eq(schema.notes.cid, owner.cid) : eq(schema.notes.ownerId, owner.ownerId),
        isNull(schema.notes.deletedAt),
      ),
    );
  return r?.n ?? 0;
}

/**
 * Inside a channel note's transaction: the inbox's task for the people its text newly names
 * (features/inbox), which runs after the commit. Nothing when no name is new.
 */
async function holdNoteMentions(
  svc: Services,
  tx: Queryable,
  appId: string,
  n: NoteRow,
  actorId: string,
  prevText: string,
): Promise<() => void> {
  if (!n.cid) return () => {};
  const before = new Set(parseMentions(prevText).usernames);
  if (parseMentions(n.text).usernames.every((u) => before.has(u))) return () => {};
  return holdInboxTask(svc, tx, appId, {
    kind: 'note_mentions',
    appId,
    noteId: n.id,
    cid: n.cid,
    actorId,
    text: n.text,
    prevText,
  });
}

/** Create a personal note, or with `cid` a channel note (`edit-channel-notes`). Same `id` again → the same note. */
export async function createNote(svc: Services, me: Me, body: CreateNoteBody): Promise<Note> {
  const appId = me.app.id;
  const at = new Date(svc.clock());
  let afterCommit = () => {};
  const note = await withTransaction(svc, async (tx, out) => {
    if (body.id) {
      const [prior] = await tx
        .select()
        .from(schema.notes)
        .where(and(eq(schema.notes.appId, appId), eq(schema.notes.id, body.id)))
        .limit(1);
      if (prior) {
        const mine = prior.cid === null ? prior.ownerId === me.userId : prior.createdBy === me.userId;
        if (!mine || prior.cid !== (body.cid ?? null)) throw new ApiError('CONFLICT', 'This note id is taken');
        return presentNote(prior);
      }
    }
    if (body.cid) {
      // Lock the channel row: the count below and the insert see one state of its notes.
      const a = await loadChannel(tx, me, body.cid, true);
      if (!a) throw notFound('Channel');
      checkCan(a, 'read-channel');
      checkCan(a, 'edit-channel-notes');
    }
    const owner = body.cid ? { cid: body.cid } : { ownerId: me.userId };
    if ((await countLive(tx, appId, owner)) >= MAX_NOTES) throw invalid(`At most ${MAX_NOTES} notes here`);
    const id = body.id ?? uuidv7();
    const text = body.text ?? '';
    const [row] = await tx
      .insert(schema.notes)
      .values({
        appId,
        id,
        ownerId: body.cid ? null : me.userId,
        cid: body.cid ?? null,
        title: body.title.trim(),
        text,
        version: 1,
        createdBy: me.userId,
        updatedBy: me.userId,
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    const r = row as NoteRow;
    await tx
      .insert(schema.noteVersions)
      .values({ appId, noteId: id, version: 1, title: r.title, text, userId: me.userId, createdAt: at });
    tell(out, appId, r, 'updated', at);
    const mentions = await holdNoteMentions(svc, tx, appId, r, me.userId, '');
    const followers = await holdNoteFollowers(svc, tx, appId, r, me.userId, at.getTime());
    afterCommit = () => {
      mentions();
      followers();
    };
    return presentNote(r);
  });
  afterCommit();
  return note;
}

/**
 * Edit a note's title and/or text from `base_version`. Behind the current version: merged
 * when the edits touch different lines (and the titles do not both change), else CONFLICT.
 */
export async function editNote(
  svc: Services,
  me: Me,
  id: string,
  body: UpdateNoteBody,
): Promise<{ note: Note; merged: boolean }> {
  const appId = me.app.id;
  const at = new Date(svc.clock());
  if (body.title === undefined && body.text === undefined) throw invalid('Nothing to change: send a title or a text');
  let afterCommit = () => {};
  const done = await withTransaction(svc, async (tx, out) => {
    const row = await accessNote(tx, me, id, true, true);
    if (body.base_version > row.version)
      throw invalid(`base_version ${body.base_version} is ahead of the note (version ${row.version})`);
    let title = body.title?.trim() ?? row.title;
    let text = body.text ?? row.text;
    let merged = false;
    if (body.base_version < row.version) {
      const [base] = await tx
        .select()
        .from(schema.noteVersions)
        .where(
          and(
            eq(schema.noteVersions.appId, appId),
            eq(schema.noteVersions.noteId, id),
            eq(schema.noteVersions.version, body.base_version),
          ),
        )
        .limit(1);
      if (!base) throw invalid(`No version ${body.base_version} of this note`);
      const conflict = () => {
        const details: NoteConflict = { note: presentNote(row), base_version: body.base_version, text, title };
        return new ApiError(
          'CONFLICT',
          `Someone else changed the same lines since version ${body.base_version}: keep yours, take theirs, or merge by hand`,
          details,
        );
      };
      // Titles are one line: a change on one side wins, different changes on both clash.
      if (title === base.title || title === row.title) title = row.title;
      else if (row.title !== base.title) throw conflict();
      if (body.text !== undefined) {
        const m = merge3(base.text, body.text, row.text);
        if (!m.ok) throw conflict();
        text = m.text;
      }
      merged = true;
    }
    if (title === row.title && text === row.text) return { note: presentNote(row), merged };
    const [updated] = await tx
      .update(schema.notes)
      .set({ title, text, version: row.version + 1, updatedBy: me.userId, updatedAt: at })
      .where(and(eq(schema.notes.appId, appId), eq(schema.notes.id, id)))
      .returning();
    const u = updated as NoteRow;
    await tx
      .insert(schema.noteVersions)
      .values({ appId, noteId: id, version: u.version, title, text, userId: me.userId, merged, createdAt: at });
    tell(out, appId, u, 'updated', at);
    const mentions = u.text !== row.text ? await holdNoteMentions(svc, tx, appId, u, me.userId, row.text) : () => {};
    const followers = await holdNoteFollowers(svc, tx, appId, u, me.userId, at.getTime());
    afterCommit = () => {
      mentions();
      followers();
    };
    return { note: presentNote(u), merged };
  });
  afterCommit();
  return done;
}

/** Delete a note (soft: its history stays for the record, out of every list and search). */
export async function deleteNote(svc: Services, me: Me, id: string): Promise<Note> {
  const at = new Date(svc.clock());
  return withTransaction(svc, async (tx, out) => {
    await accessNote(tx, me, id, true, true);
    const [row] = await tx
      .update(schema.notes)
      .set({ deletedAt: at, updatedAt: at, updatedBy: me.userId })
      .where(and(eq(schema.notes.appId, me.app.id), eq(schema.notes.id, id)))
      .returning();
    const r = row as NoteRow;
    tell(out, me.app.id, r, 'deleted', at);
    return presentNote(r);
  });
}

/** One note the caller may read. */
export async function getNote(svc: Services, me: Me, id: string): Promise<Note> {
  return presentNote(await accessNote(svc.db, me, id));
}

/** Escape LIKE's wildcards so `q` matches as typed. */
const likeOf = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** My personal notes, or with `cid` a readable channel's notes; latest edited first; `q` filters. */
export async function listNotes(
  svc: Services,
  me: Me,
  opts: { cid?: string; q?: string; limit?: number },
): Promise<Note[]> {
  if (opts.cid) await accessChannelRead(svc.db, me, opts.cid);
  const rows = await svc.db
    .select()
    .from(schema.notes)
    .where(
      and(
        eq(schema.notes.appId, me.app.id),
        opts.cid ? eq(schema.notes.cid, opts.cid) : eq(schema.notes.ownerId, me.userId),
        isNull(schema.notes.deletedAt),
        opts.q ? or(ilike(schema.notes.title, likeOf(opts.q)), ilike(schema.notes.text, likeOf(opts.q))) : undefined,
      ),
    )
    .orderBy(desc(schema.notes.updatedAt), desc(schema.notes.id))
    .limit(opts.limit ?? 100);
  return rows.map(presentNote);
}

/**
 * Search the notes the caller may read: their own and those of channels they may read. The
 * SQL narrows channel notes to channels the caller is a member of or that are open types;
 * each channel is then checked with the permission model (overrides, guests, bans), so a
 * note is found exactly when `GET /v1/notes/{id}` would answer it.
 */
export async function searchNotes(svc: Services, me: Me, q: string, limit = 20): Promise<Note[]> {
  const appId = me.app.id;
  const mine = sql`${schema.notes.cid} in (select ${schema.members.cid} from ${schema.members} where ${schema.members.appId} = ${appId} and ${schema.members.userId} = ${me.userId})`;
  const open = sql`${schema.notes.cid} in (select ${schema.channels.cid} from ${schema.channels} where ${schema.channels.appId} = ${appId} and ${schema.channels.type} in ('public', 'announcement'))`;
  const rows = await svc.db
    .select()
    .from(schema.notes)
    .where(
      and(
        eq(schema.notes.appId, appId),
        isNull(schema.notes.deletedAt),
        or(eq(schema.notes.ownerId, me.userId), and(isNotNull(schema.notes.cid), or(mine, open))),
        or(ilike(schema.notes.title, likeOf(q)), ilike(schema.notes.text, likeOf(q))),
      ),
    )
    .orderBy(desc(schema.notes.updatedAt), desc(schema.notes.id))
    .limit(limit * 2);
  const readable = new Map<string, boolean>();
  const out: Note[] = [];
  for (const r of rows) {
    if (r.cid) {
      let ok = readable.get(r.cid);
      if (ok === undefined) {
        const a = await loadChannel(svc.db, me, r.cid);
        ok = a !== null && can(a, 'read-channel', svc.clock());
        readable.set(r.cid, ok);
      }
      if (!ok) continue;
    }
    out.push(presentNote(r));
    if (out.length >= limit) break;
  }
  return out;
}

/** A note's versions, newest first (text included: a note's history is its record). */
export async function listVersions(svc: Services, me: Me, id: string): Promise<NoteVersion[]> {
  await accessNote(svc.db, me, id);
  const rows = await svc.db
    .select()
    .from(schema.noteVersions)
    .where(and(eq(schema.noteVersions.appId, me.app.id), eq(schema.noteVersions.noteId, id)))
    .orderBy(desc(schema.noteVersions.version))
    .limit(500);
  return rows.map(presentVersion);
}

/** One old version of a note. */
export async function getVersion(svc: Services, me: Me, id: string, version: number): Promise<NoteVersion> {
  await accessNote(svc.db, me, id);
  const [row] = await svc.db
    .select()
    .from(schema.noteVersions)
    .where(
      and(
        eq(schema.noteVersions.appId, me.app.id),
        eq(schema.noteVersions.noteId, id),
        eq(schema.noteVersions.version, version),
      ),
    )
    .orderBy(asc(schema.noteVersions.version))
    .limit(1);
  if (!row) throw notFound('Note version');
  return presentVersion(row);
}

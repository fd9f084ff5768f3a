/**
 * Import a workspace export in Parley's own format (parley-format.ts; made by parley-export.ts on
 * this or another deployment) into a workspace: `parley import parley`, `POST
 * /v1/admin/imports/parley`. The rules are the other importers' (slack.ts, mattermost.ts):
 *
 * - The whole archive is checked first — manifest and version, every line of every kind against
 *   its columns, duplicates, every reference (a member's channel and user, a reply's parent, a
 *   reaction's message…), every message against the wire's Message schema, every file's bytes
 *   against its size and SHA-256 — and any problem refuses it before a write (`ExportRefusedError`,
 *   every problem with its file:line).
 * - Every write is ONE transaction: a failure part-way leaves nothing. File bytes are put before
 *   it, under keys derived from the file's id, which a re-run writes over.
 * - Ids are kept: every key is scoped by workspace, so the export's ids cannot clash with another
 *   workspace's. A row whose key the target workspace holds already is left as it is — that is
 *   what makes a re-import add nothing — and so are the children of such a row (a channel's
 *   members, a message's reactions…). A username another user or group here holds is renamed
 *   (`name-2`), as the other importers do; the report lists each.
 * - A new channel keeps its seqs, its `last_seq` and its members' read marks; a message new to a
 *   channel that was already here (a later export of the same workspace) takes the next seqs.
 *   Each imported message gets its `message.new` in the channel's event log, as it stands.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ChannelEvent } from '@parley/protocol';
import {
  CHANNEL_TYPES,
  GROUP_HANDLE_PATTERN,
  IMAGE_MAX_BYTES,
  IMAGE_SIZES,
  MAX_EMOJI_ALIASES,
  MEMBER_ROLES,
  Message,
  PROFILE_FIELD_KINDS,
  PROFILE_FIELD_VISIBILITIES,
  PROFILE_LIMITS,
  USER_ROLES,
  USERNAME_PATTERN,
} from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { type Database, type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { logEvents, type Outbox, takeSeqs } from '../../platform/event-log.js';
import type { BlobStore } from '../../platform/storage/index.js';
import { checkShortcode, prepareEmojiImage, standardShortcodes } from '../emoji/index.js';
import { type FileRow, presentAttachment } from '../files/index.js';
import { imageUrl } from '../images/index.js';
import { type MessageRow, presentMessage } from '../messages/index.js';
import { type ExportProblem, ExportRefusedError, ImportInputError } from './errors.js';
import {
  CLAIMS_FILE,
  Claim,
  decodeRow,
  emojiEntry,
  fileEntry,
  KINDS,
  type Kind,
  type KindName,
  keyOf,
  Manifest,
  PARLEY_FORMAT,
  PARLEY_FORMAT_VERSION,
  pictureEntry,
  propOf,
  Settings,
  schemaProblem,
  thumbEntry,
  thumbKey,
} from './parley-format.js';
import { type RenameReason, usernamePicker } from './people.js';
import { insertNew, storedMessageIds } from './write.js';
import { archiveFromEntries, type ExportArchive, type ExportBlob } from './zip.js';

export interface ParleyRename {
  user_id: string;
  wanted: string;
  username: string;
  reason: RenameReason['reason'];
  held_by?: 'user' | 'group';
}

/** A user group whose handle the target holds (a person's or another group's): renamed. */
export interface ParleyGroupRename {
  group_id: string;
  wanted: string;
  handle: string;
  reason: RenameReason['reason'];
  held_by?: 'user' | 'group';
}

export interface ParleyImportReport {
  dry_run: boolean;
  /** The format version of the archive, and where it came from. */
  version: number;
  source: { workspace_id: string; name: string; exported_at: string };
  /** Per kind (KINDS): rows added, and rows the workspace held already (left as they are). */
  imported: Record<KindName, number>;
  existing: Record<KindName, number>;
  /** Bytes of the files (and thumbnails) put into the store. */
  file_bytes: number;
  renamed: ParleyRename[];
  /** User groups whose handle was another's here. */
  renamed_groups: ParleyGroupRename[];
  /** People an account with the address they had may claim (docs/moving.md, step 4). */
  claims: number;
  /** Whether the workspace's settings were set from the archive's (settings.json). */
  settings: boolean;
}

export interface ParleyImportOptions {
  dryRun?: boolean;
  /** After each kind written (and once before the first, with done 0). */
  onProgress?: (done: number, total: number, kind: string | null) => void;
  /** Where the files' bytes go; an archive with files needs one. */
  store?: BlobStore;
  /**
   * `PARLEY_PUBLIC_URL`: the pictures' URLs start with it (without it they are the server's own
   * path, `/v1/images/…`, which the web app on the same server shows).
   */
  publicUrl?: string | undefined;
}

type Row = Record<string, unknown>;
type Rows = { [K in KindName]: Row[] };

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const str = (v: unknown) => v as string;

/** A rollback on purpose: a dry run writes everything in its transaction, then undoes it. */
class DryRunDone extends Error {}

/**
 * Import a Parley workspace export into the workspace `appId`: an archive (`openExportZip`, or
 * entries path → bytes). See the module's comment for the rules.
 */
export async function importParleyExport(
  database: Database,
  appId: string,
  input: ExportArchive | ReadonlyMap<string, Uint8Array>,
  opts: ParleyImportOptions = {},
): Promise<ParleyImportReport> {
  const archive = 'blobs' in input && 'problems' in input ? input : archiveFromEntries(input);
  const {
    manifest,
    settings,
    rows,
    bytes,
    claims: claimRows,
    emojiImages,
    pictures,
  } = await readParleyExport(archive, !!opts.store);
  const db = database.db;
  const [ws] = await db
    .select({ appId: schema.workspaces.appId })
    .from(schema.workspaces)
    .where(eq(schema.workspaces.appId, appId));
  if (!ws) throw new ImportInputError(`no workspace with id ${appId}`);
  const zero = () => Object.fromEntries(KINDS.map((k) => [k.kind, 0])) as Record<KindName, number>;
  const report: ParleyImportReport = {
    dry_run: !!opts.dryRun,
    version: manifest.version,
    source: { workspace_id: manifest.workspace.id, name: manifest.workspace.name, exported_at: manifest.exported_at },
    imported: zero(),
    existing: zero(),
    file_bytes: 0,
    renamed: [],
    renamed_groups: [],
    claims: 0,
    settings: false,
  };
  const write = async (q: Tx) => {
    // One step a kind, note versions with their notes.
    const progress = (done: number, kind: string | null) => opts.onProgress?.(done, KINDS.length - 1, kind);
    progress(0, null);
    let done = 0;
    const step = (kind: string) => progress(++done, kind);

    // Users: kept as they are unless the workspace has the id; a username held here is renamed.
    const storedUsers = await existingKeys(
      q,
      schema.users,
      schema.users.appId,
      schema.users.id,
      appId,
      rows.users.map((u) => str(u.id)),
    );
    const freshUsers = rows.users.filter((u) => !storedUsers.has(str(u.id)));
    // Groups' handles are @names too: who holds them is read with the usernames.
    const pick = await usernamePicker(q, appId, [
      ...freshUsers.flatMap((u) => (u.username ? [str(u.username)] : [])),
      ...rows.user_groups.map((g) => str(g.handle)),
    ]);
    for (const u of freshUsers) {
      if (!u.username) continue;
      const { username, why } = await pick(str(u.username), str(u.id));
      if (why) report.renamed.push({ user_id: str(u.id), wanted: str(u.username), username, ...why });
      u.username = username;
    }
    await insertNew(q, schema.users, freshUsers.map((u) => ({ ...u, appId })) as never);
    // The people new here may be claimed by an account with the address they had.
    const freshUserIds = new Set(freshUsers.map((u) => str(u.id)));
    const claims = claimRows
      .filter((c) => freshUserIds.has(c.user_id))
      .map((c) => ({ appId, email: c.email.toLowerCase(), userId: c.user_id, source: 'parley' }));
    await insertNew(q, schema.importClaims, claims);
    report.claims = claims.length;
    count(report, 'users', freshUsers.length, rows.users.length);
    step('users');
    // The rows added by this run, by kind: what hangs on a row comes only with it (`parent`).
    const added = new Map<string, Set<string>>([['users', freshUserIds]]);

    // Channels, and the members of those new here.
    const storedChannels = await existingKeys(
      q,
      schema.channels,
      schema.channels.appId,
      schema.channels.cid,
      appId,
      rows.channels.map((c) => str(c.cid)),
    );
    const freshChannels = rows.channels.filter((c) => !storedChannels.has(str(c.cid)));
    const freshCids = new Set(freshChannels.map((c) => str(c.cid)));
    added.set('channels', freshCids);
    await insertNew(q, schema.channels, freshChannels.map((c) => ({ ...c, appId })) as never);
    count(report, 'channels', freshChannels.length, rows.channels.length);
    step('channels');
    const freshMembers = rows.members.filter((m) => freshCids.has(str(m.cid)));
    await insertNew(q, schema.members, freshMembers.map((m) => ({ ...m, appId })) as never);
    if (freshCids.size > 0)
      await q.execute(sql`update ${schema.channels} c set member_count =
        (select count(*) from ${schema.members} m where m.app_id = c.app_id and m.cid = c.cid)
        where c.app_id = ${appId} and c.cid in (${sql.join(
          [...freshCids].map((c) => sql`${c}`),
          sql`, `,
        )})`);
    count(report, 'members', freshMembers.length, rows.members.length);
    step('members');

    // Messages: those not here yet; in a channel that was here, after what it holds.
    const stored = await storedMessageIds(
      q,
      appId,
      rows.messages.map((m) => str(m.id)),
    );
    const fresh = rows.messages.filter((m) => !stored.has(str(m.id))) as unknown as MessageRow[];
    const byChannel = new Map<string, MessageRow[]>();
    for (const m of fresh) byChannel.set(m.cid, [...(byChannel.get(m.cid) ?? []), m]);
    const filesById = new Map(rows.files.map((f) => [str(f.id), f]));
    const out: Outbox = []; // no server runs here: nothing to publish
    for (const [cid, list] of byChannel) {
      list.sort((a, b) => a.seq - b.seq);
      if (!freshCids.has(cid)) {
        const first = await takeSeqs(q, appId, cid, list.length);
        list.forEach((m, i) => {
          m.seq = first + i;
        });
      }
      for (const m of list) {
        m.appId = appId;
        // A file's wire shape is the file row's (its URL is this server's), never the archive's.
        m.attachments = m.attachments.flatMap((a) => {
          const f = filesById.get(a.id);
          return f ? [presentAttachment(fileRow(appId, f))] : [];
        });
      }
      for (let i = 0; i < list.length; i += 500) {
        const part = list.slice(i, i + 500);
        await q.insert(schema.messages).values(part);
        const events: ChannelEvent[] = part.map((r) => ({
          type: 'message.new',
          cid,
          seq: r.seq,
          created_at: r.createdAt.toISOString(),
          message: presentMessage(r),
        }));
        await logEvents(q, out, appId, events);
      }
    }
    count(report, 'messages', fresh.length, rows.messages.length);
    step('messages');

    // What hangs on a message: only that of the messages added here.
    const freshIds = new Set(fresh.map((m) => m.id));
    added.set('messages', freshIds);
    const children = [
      ['message_versions', schema.messageVersions],
      ['reactions', schema.reactions],
      ['poll_votes', schema.pollVotes],
    ] as const;
    for (const [kind, table] of children) {
      const list = rows[kind].filter((r) => freshIds.has(str(r.messageId)));
      await insertNew(q, table as PgTable, list.map((r) => ({ ...r, appId })) as never);
      count(report, kind, list.length, rows[kind].length);
      step(kind);
    }
    const freshFiles = rows.files.filter((f) => freshIds.has(str(f.messageId))).map((f) => fileRow(appId, f));
    if (!opts.dryRun && opts.store)
      for (const f of freshFiles) {
        // Before the rows' commit, under keys derived from the ids: a re-run writes them over.
        const b = bytes.get(fileEntry(f.id, f.name));
        if (b) await opts.store.putBytes(f.storageKey, await b(), { contentType: f.mimeType });
        report.file_bytes += f.size;
        for (const [size, key] of Object.entries(f.thumbs)) {
          const t = bytes.get(thumbEntry(f.id, size));
          if (!t) continue;
          const got = await t();
          await opts.store.putBytes(key, got, { contentType: 'image/webp' });
          report.file_bytes += got.length;
        }
      }
    await insertNew(q, schema.files, freshFiles);
    count(report, 'files', freshFiles.length, rows.files.length);
    step('files');

    // Notes (a channel's or a person's) and every version of those new here.
    const storedNotes = await existingKeys(
      q,
      schema.notes,
      schema.notes.appId,
      schema.notes.id,
      appId,
      rows.notes.map((n) => str(n.id)),
    );
    const freshNotes = rows.notes.filter((n) => !storedNotes.has(str(n.id)));
    await insertNew(q, schema.notes, freshNotes.map((n) => ({ ...n, appId })) as never);
    count(report, 'notes', freshNotes.length, rows.notes.length);
    const freshNoteIds = new Set(freshNotes.map((n) => str(n.id)));
    added.set('notes', freshNoteIds);
    const versions = rows.note_versions.filter((v) => freshNoteIds.has(str(v.noteId)));
    await insertNew(q, schema.noteVersions, versions.map((v) => ({ ...v, appId })) as never);
    count(report, 'note_versions', versions.length, rows.note_versions.length);
    step('notes');

    // Custom emoji: a name the workspace has already is left as it is (its emoji stays); an alias
    // taken here is left out. The image gets an id and a key of the target's.
    const emojiNames = [...new Set(rows.custom_emoji.flatMap((e) => [str(e.shortcode), ...(e.aliases as string[])]))];
    const takenNames = new Set<string>();
    for (let i = 0; i < emojiNames.length; i += 1000)
      for (const r of await q
        .select({ name: schema.emojiNames.name })
        .from(schema.emojiNames)
        .where(and(eq(schema.emojiNames.appId, appId), inArray(schema.emojiNames.name, emojiNames.slice(i, i + 1000)))))
        takenNames.add(r.name);
    const freshEmoji = rows.custom_emoji.filter((e) => !takenNames.has(str(e.shortcode)));
    for (const e of freshEmoji) {
      const img = emojiImages.get(str(e.shortcode));
      if (!img) continue;
      const imageId = randomUUID();
      const storageKey = `${appId}/${imageId}.emoji`;
      e.aliases = (e.aliases as string[]).filter((a) => !takenNames.has(a));
      const names = [str(e.shortcode), ...(e.aliases as string[])];
      for (const n of names) takenNames.add(n);
      if (!opts.dryRun && opts.store) await opts.store.putBytes(storageKey, img.data, { contentType: img.contentType });
      await q.insert(schema.emojiNames).values(names.map((name) => ({ appId, name, shortcode: str(e.shortcode) })));
      await q.insert(schema.customEmoji).values({
        ...(e as typeof schema.customEmoji.$inferInsert),
        appId,
        imageId,
        storageKey,
        contentType: img.contentType,
        animated: img.animated,
        width: img.width,
        height: img.height,
      });
    }
    count(report, 'custom_emoji', freshEmoji.length, rows.custom_emoji.length);
    step('custom_emoji');

    // User groups: a handle held here (a person's or a group's) is renamed, as a username is.
    const storedGroups = await existingKeys(
      q,
      schema.userGroups,
      schema.userGroups.appId,
      schema.userGroups.id,
      appId,
      rows.user_groups.map((g) => str(g.id)),
    );
    for (const g of rows.user_groups) {
      if (storedGroups.has(str(g.id))) continue;
      const { username: handle, why } = await pick(str(g.handle), str(g.id));
      if (why) report.renamed_groups.push({ group_id: str(g.id), wanted: str(g.handle), handle, ...why });
      g.handle = handle;
    }

    // The other kinds of version 2, alike: the rows not here yet, each child only with its parent.
    for (const k of KINDS as readonly Kind[]) {
      if (!k.since || k.kind === 'custom_emoji') continue;
      const list = rows[k.kind as KindName];
      // A picture comes with its person new here (one the target has keeps theirs), or is the logo.
      const todo =
        k.kind === 'images'
          ? list.filter((i) => i.ownerKind === 'workspace' || freshUserIds.has(str(i.ownerId)))
          : list;
      if (k.kind === 'images') await storeRenditions(todo, pictures, appId, opts, report);
      const n = await writeRows(q, appId, k, todo, added);
      if (k.kind === 'images') await pointAtPictures(q, appId, todo, added, opts.publicUrl);
      count(report, k.kind as KindName, n, list.length);
      step(k.kind);
    }

    // The settings: the archive's are the workspace's from now on.
    await q
      .update(schema.workspaces)
      .set({
        joinPolicy: settings.join_policy,
        joinDomain: settings.join_domain,
        requireTwoFactor: settings.require_two_factor,
        ...(settings.email_visibility ? { emailVisibility: settings.email_visibility } : {}),
      })
      .where(eq(schema.workspaces.appId, appId));
    await q
      .update(schema.apps)
      .set({ permissions: settings.permissions, automod: settings.automod, uploadRules: settings.upload_rules })
      .where(eq(schema.apps.id, appId));
    report.settings = true;
    if (opts.dryRun) throw new DryRunDone();
  };
  try {
    await db.transaction(async (tx) => write(tx));
  } catch (e) {
    if (!(e instanceof DryRunDone)) throw e;
  }
  return report;
}

function count(report: ParleyImportReport, kind: KindName, fresh: number, all: number) {
  report.imported[kind] = fresh;
  report.existing[kind] = all - fresh;
}

/**
 * The pictures' renditions: each row's `sizes` and `bytes` are the target's, and (but in a dry
 * run) the bytes are put before the rows' commit, under keys derived from the ids, as a file's.
 */
async function storeRenditions(
  list: Row[],
  pictures: Map<string, Map<string, () => Promise<Buffer>>>,
  appId: string,
  opts: ParleyImportOptions,
  report: ParleyImportReport,
) {
  for (const r of list) {
    const sizes: Record<string, string> = {};
    let total = 0;
    for (const [size, read] of pictures.get(str(r.id)) ?? []) {
      const key = `${appId}/${str(r.id)}.a${size}`;
      sizes[size] = key;
      const b = await read();
      total += b.length;
      if (!opts.dryRun && opts.store) {
        await opts.store.putBytes(key, b, { contentType: 'image/webp' });
        report.file_bytes += b.length;
      }
    }
    r.sizes = sizes;
    r.bytes = total;
  }
}

/**
 * The people and the workspace whose picture this run added point at it: a person new here whose
 * `image` named that picture on the old server, and the workspace's logo.
 */
async function pointAtPictures(
  q: Tx,
  appId: string,
  list: readonly Row[],
  added: Map<string, Set<string>>,
  publicUrl: string | undefined,
) {
  const mine = added.get('images') ?? new Set<string>();
  const freshUsers = added.get('users') ?? new Set<string>();
  const origin = (publicUrl ?? '').replace(/\/+$/, '');
  for (const r of list) {
    const id = str(r.id);
    if (!mine.has(id)) continue;
    const url = imageUrl(origin, appId, id);
    if (r.ownerKind === 'workspace') {
      await q.update(schema.workspaces).set({ logo: url }).where(eq(schema.workspaces.appId, appId));
      continue;
    }
    if (!freshUsers.has(str(r.ownerId))) continue;
    await q
      .update(schema.users)
      .set({ image: url, imageBlurhash: (r.blurhash as string | null) ?? null })
      .where(
        and(
          eq(schema.users.appId, appId),
          eq(schema.users.id, str(r.ownerId)),
          sql`${schema.users.image} like ${`%/v1/images/%/${id}`}`,
        ),
      );
  }
}

/**
 * Insert the rows of `k` the workspace does not hold (by any of its keys), and of a kind that
 * hangs on another (`parent`) only those whose parent this run added; `added` gets their keys.
 * Answers how many went in.
 */
async function writeRows(q: Tx, appId: string, k: Kind, list: readonly Row[], added: Map<string, Set<string>>) {
  let todo = list;
  if (k.parent) {
    const parents = added.get(k.refs?.[k.parent] ?? '') ?? new Set<string>();
    const prop = propOf(k, k.parent);
    todo = list.filter((r) => parents.has(String(r[prop])));
  }
  const keys = new Set<string>();
  for (let i = 0; i < todo.length; i += 500) {
    const got = (await q
      .insert(k.table)
      .values(todo.slice(i, i + 500).map((r) => ({ ...r, appId })) as never)
      .onConflictDoNothing()
      .returning()) as Row[];
    for (const r of got) keys.add(keyOf(k, r));
  }
  added.set(k.kind, keys);
  return keys.size;
}

/** Which of `ids` the app's rows hold (`appCol` the table's app, `col` the key). */
async function existingKeys(
  q: Queryable,
  table: PgTable,
  appCol: PgColumn,
  col: PgColumn,
  appId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const got = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const found = (await q
      .select({ k: col })
      .from(table)
      .where(and(eq(appCol, appId), inArray(col, ids.slice(i, i + 1000))))) as { k: string }[];
    for (const r of found) got.add(r.k);
  }
  return got;
}

/** A file row of the archive as this workspace stores it: its bytes and thumbnails under its keys. */
function fileRow(appId: string, f: Row): FileRow {
  const storageKey = `${appId}/${str(f.id)}`;
  const thumbs = Object.fromEntries(
    Object.keys((f.thumbs ?? {}) as Record<string, string>).map((size) => [size, thumbKey(storageKey, size)]),
  );
  return { ...(f as unknown as FileRow), appId, storageKey, thumbs };
}

// ---- reading and checking the archive ------------------------------------------------------

const SIZE = /^[a-z0-9]{1,16}$/;
const USERNAME = new RegExp(USERNAME_PATTERN);
const GROUP_HANDLE = new RegExp(GROUP_HANDLE_PATTERN);
const LINK = /^https?:\/\/\S+$/;

/**
 * The archive's manifest, settings and rows, every one checked; any problem refuses it whole.
 * `bytes`: a file's (or thumbnail's) entry → its bytes, read again when stored.
 */
export async function readParleyExport(archive: ExportArchive, haveStore: boolean) {
  const problems: ExportProblem[] = [...archive.problems];
  const refuse = (): never => {
    throw new ExportRefusedError(problems);
  };
  const json = (name: string): unknown => {
    const b = archive.files.get(name);
    if (!b) {
      problems.push({ file: name, reason: 'not in the archive' });
      return null;
    }
    try {
      return JSON.parse(Buffer.from(b).toString('utf8'));
    } catch {
      problems.push({ file: name, reason: 'not JSON' });
      return null;
    }
  };
  const manifest = json('manifest.json');
  if (manifest === null) refuse();
  const m = manifest as Manifest;
  if (m && typeof m === 'object' && m.format !== PARLEY_FORMAT)
    problems.push({ file: 'manifest.json', reason: `format is not "${PARLEY_FORMAT}": not a Parley workspace export` });
  else if (m && typeof m === 'object' && typeof m.version === 'number' && m.version > PARLEY_FORMAT_VERSION)
    problems.push({
      file: 'manifest.json',
      reason: `version ${m.version} is newer than this Parley reads (${PARLEY_FORMAT_VERSION}): upgrade it first`,
    });
  else {
    const why = schemaProblem(Manifest, manifest);
    if (why) problems.push({ file: 'manifest.json', reason: why });
  }
  if (problems.length > 0) refuse();
  const settings = json('settings.json');
  const badSettings = settings === null ? null : schemaProblem(Settings, settings);
  if (badSettings) problems.push({ file: 'settings.json', reason: badSettings });

  // Every line of every kind, decoded against its columns; duplicates are problems.
  const rows = {} as Rows;
  const keys = {} as Record<KindName, Set<string>>;
  for (const k of KINDS) {
    const name = `${k.kind}.jsonl`;
    const list: Row[] = [];
    rows[k.kind] = list;
    keys[k.kind] = new Set();
    // A kind newer than the archive's version: it has none.
    if (((k as Kind).since ?? 1) > m.version) continue;
    const blob = archive.blobs.get(name);
    if (!blob) {
      problems.push({ file: name, reason: 'not in the archive' });
      continue;
    }
    for (const { where, value } of await jsonLines(name, blob, problems)) {
      const got = decodeRow(k, value);
      if ('problem' in got) {
        problems.push({ file: where, reason: got.problem });
        continue;
      }
      const key = keyOf(k, got.row);
      if (keys[k.kind].has(key)) problems.push({ file: where, reason: 'a second row with the same key' });
      keys[k.kind].add(key);
      got.row._line = where;
      list.push(got.row);
    }
    if (m.counts[k.kind] !== undefined && m.counts[k.kind] !== list.length && problems.length === 0)
      problems.push({ file: name, reason: `${list.length} rows, but the manifest counts ${m.counts[k.kind]}` });
  }

  // References: each row names only rows of the archive.
  const has = (kind: KindName, key: string) => keys[kind].has(key);
  const need = (r: Row, ok: boolean, what: string) => {
    if (!ok) problems.push({ file: str(r._line), reason: what });
  };
  const channelOf = new Map(rows.channels.map((c) => [str(c.cid), c]));
  for (const u of rows.users) {
    need(
      u,
      (USER_ROLES as readonly unknown[]).includes(u.role ?? 'user'),
      `role "${String(u.role)}" is not a user role`,
    );
    need(u, u.username == null || USERNAME.test(str(u.username)), `username "${String(u.username)}" is not a username`);
  }
  for (const c of rows.channels) {
    need(c, (CHANNEL_TYPES as readonly unknown[]).includes(c.type), `type "${str(c.type)}" is not a channel type`);
    need(c, c.cid === `${str(c.type)}:${str(c.id)}`, `cid is not "type:id"`);
  }
  for (const x of rows.members) {
    need(
      x,
      (MEMBER_ROLES as readonly unknown[]).includes(x.role ?? 'member'),
      `role "${String(x.role)}" is not a member role`,
    );
    need(x, has('channels', str(x.cid)), `member of a channel not in the archive (${str(x.cid)})`);
    need(x, has('users', str(x.userId)), `member who is not in users.jsonl (${str(x.userId)})`);
  }
  const messageOf = new Map(rows.messages.map((x) => [str(x.id), x]));
  const seqs = new Set<string>();
  for (const x of rows.messages) {
    const c = channelOf.get(str(x.cid));
    need(x, !!c, `message in a channel not in the archive (${str(x.cid)})`);
    need(x, has('users', str(x.userId)), `author not in users.jsonl (${str(x.userId)})`);
    const seq = x.seq as number;
    need(x, seq >= 1 && (!c || seq <= (c.lastSeq as number)), `seq ${seq} outside 1..the channel's last_seq`);
    need(x, !seqs.has(`${str(x.cid)}\n${seq}`), `a second message with seq ${seq} in ${str(x.cid)}`);
    seqs.add(`${str(x.cid)}\n${seq}`);
    if (x.parentId !== null)
      need(x, messageOf.get(str(x.parentId))?.cid === x.cid, 'thread parent not in the archive, in its channel');
    // A quote of a message that is gone (its channel deleted) points nowhere, as it did there; a
    // quote never points at a message of the target that the archive does not hold.
    if (x.quotedMessageId !== null && !messageOf.has(str(x.quotedMessageId))) x.quotedMessageId = null;
    const files = x.attachments;
    need(
      x,
      Array.isArray(files) && files.every((a) => a && typeof a === 'object' && typeof a.id === 'string'),
      '"attachments" must be a list of objects with an "id"',
    );
    const hidden = x.hiddenPreviews;
    need(
      x,
      Array.isArray(hidden) && hidden.every((u) => typeof u === 'string'),
      '"hidden_previews" must be a list of URLs',
    );
    if (c) {
      const why = schemaProblem(Message, presentMessage({ ...(x as unknown as MessageRow), attachments: [] }));
      if (why) problems.push({ file: str(x._line), reason: `not a message: ${why}` });
    }
  }
  for (const kind of ['message_versions', 'reactions', 'poll_votes'] as const)
    for (const x of rows[kind]) {
      need(x, messageOf.has(str(x.messageId)), `of a message not in the archive (${str(x.messageId)})`);
      if (kind !== 'message_versions')
        need(x, has('users', str(x.userId)), `by a user not in users.jsonl (${str(x.userId)})`);
    }
  for (const x of rows.poll_votes)
    need(x, messageOf.get(str(x.messageId))?.poll != null, 'a vote on a message without a poll');
  const bytes = new Map<string, () => Promise<Buffer>>();
  for (const f of rows.files) {
    need(f, messageOf.get(str(f.messageId))?.cid === f.cid, 'file of a message not in the archive, in its channel');
    need(f, has('users', str(f.userId)), `uploaded by a user not in users.jsonl (${str(f.userId)})`);
    const entry = fileEntry(str(f.id), str(f.name));
    const blob = archive.blobs.get(entry);
    if (!blob) {
      problems.push({ file: str(f._line), reason: `its bytes are not in the archive (${entry})` });
      continue;
    }
    if (!haveStore) {
      problems.push({ file: entry, reason: 'no file store to put the bytes in' });
      continue;
    }
    const got = await blob.read();
    if (got.length !== f.size || sha256(got) !== f.sha256)
      problems.push({ file: entry, reason: 'its bytes are not the size and SHA-256 its row says' });
    bytes.set(entry, () => blob.read());
    const thumbs = f.thumbs;
    if (!thumbs || typeof thumbs !== 'object' || Array.isArray(thumbs)) {
      problems.push({ file: str(f._line), reason: '"thumbs" must be an object' });
      continue;
    }
    for (const size of Object.keys(thumbs)) {
      const t = archive.blobs.get(thumbEntry(str(f.id), size));
      if (!SIZE.test(size) || !t) problems.push({ file: str(f._line), reason: `thumbnail ${size} not in the archive` });
      else bytes.set(thumbEntry(str(f.id), size), () => t.read());
    }
  }
  for (const n of rows.notes)
    need(
      n,
      (n.cid === null) !== (n.ownerId === null) &&
        (n.cid === null ? has('users', str(n.ownerId)) : has('channels', str(n.cid))),
      "a note must be a channel's (cid) or a person's (owner_id) of the archive",
    );
  for (const v of rows.note_versions) need(v, has('notes', str(v.noteId)), 'version of a note not in the archive');
  // The kinds that say what they name (`refs`): each such row is in the archive.
  for (const k of KINDS as readonly Kind[])
    for (const [col, kind] of Object.entries(k.refs ?? {})) {
      const prop = propOf(k, col);
      for (const r of rows[k.kind as KindName]) {
        const v = r[prop];
        need(
          r,
          v == null || has(kind as KindName, String(v)),
          `"${col}" names a row not in ${kind}.jsonl (${String(v)})`,
        );
      }
    }
  const emojiImages = await checkEmoji(archive, rows.custom_emoji, haveStore, problems);
  for (const g of rows.user_groups)
    need(g, GROUP_HANDLE.test(str(g.handle)), `handle "${str(g.handle)}" is not a group handle`);
  const fieldOf = new Map(rows.profile_fields.map((f) => [str(f.id), f]));
  for (const f of rows.profile_fields) {
    need(f, (PROFILE_FIELD_KINDS as readonly unknown[]).includes(f.kind), `kind "${str(f.kind)}" is not a field kind`);
    need(
      f,
      (PROFILE_FIELD_VISIBILITIES as readonly unknown[]).includes(f.visibility ?? 'members'),
      `visibility "${String(f.visibility)}" is not a field visibility`,
    );
    need(
      f,
      Array.isArray(f.options) && f.options.every((o) => typeof o === 'string'),
      '"options" must be a list of strings',
    );
  }
  for (const v of rows.profile_field_values) {
    const f = fieldOf.get(str(v.fieldId));
    need(v, str(v.value).length <= PROFILE_LIMITS.link_value, `"value" is longer than ${PROFILE_LIMITS.link_value}`);
    if (f?.kind === 'choice' && Array.isArray(f.options))
      need(v, (f.options as unknown[]).includes(v.value), `"${str(v.value)}" is not one of the field's options`);
  }
  for (const b of rows.channel_bookmarks)
    need(
      b,
      b.kind === 'link'
        ? typeof b.url === 'string' && LINK.test(b.url) && b.fileId === null
        : b.kind === 'file' && b.fileId !== null && b.url === null,
      'a bookmark is a link (kind "link", an http(s) url) or a file (kind "file", a file_id)',
    );
  for (const x of rows.saved_items) {
    need(x, x.status === 'saved' || x.status === 'completed', `status "${str(x.status)}" is not saved or completed`);
    need(x, messageOf.get(str(x.messageId))?.cid === x.cid, "cid is not its message's channel");
  }
  const tasked = new Set<string>();
  for (const x of rows.tasks) {
    need(x, x.status === 'open' || x.status === 'done', `status "${str(x.status)}" is not open or done`);
    need(x, messageOf.get(str(x.messageId))?.cid === x.cid, "cid is not its message's channel");
    need(x, !tasked.has(str(x.messageId)), 'a second task of one message');
    tasked.add(str(x.messageId));
  }
  const sectionOf = new Map(rows.sidebar_sections.map((x) => [str(x.id), x]));
  const starred = new Set<string>();
  for (const x of rows.sidebar_sections) {
    need(x, x.kind === 'custom' || x.kind === 'starred', `kind "${str(x.kind)}" is not custom or starred`);
    need(x, ['manual', 'name', 'recent'].includes(str(x.sort ?? 'manual')), `sort "${str(x.sort)}" is not a sort`);
    if (x.kind === 'starred') need(x, !starred.has(str(x.userId)), 'a second starred section of one person');
    if (x.kind === 'starred') starred.add(str(x.userId));
  }
  for (const x of rows.sidebar_placements)
    need(x, sectionOf.get(str(x.sectionId))?.userId === x.userId, "a place in another person's section");
  const pictures = new Map<string, Map<string, () => Promise<Buffer>>>();
  const logos = rows.images.filter((i) => i.ownerKind === 'workspace');
  for (const i of logos.slice(1)) need(i, false, 'a second workspace logo');
  for (const i of rows.images) {
    need(
      i,
      i.ownerKind === 'workspace' ? i.ownerId === '' : i.ownerKind === 'user' && has('users', str(i.ownerId)),
      'a picture must be a person\'s of users.jsonl (owner_kind "user") or the logo (owner_kind "workspace", owner_id "")',
    );
    const renditions = new Map<string, () => Promise<Buffer>>();
    for (const size of IMAGE_SIZES) {
      const entry = pictureEntry(str(i.id), size);
      const blob = archive.blobs.get(entry);
      if (!blob) continue;
      const head = (await blob.read()).subarray(0, 12);
      if (
        blob.size > IMAGE_MAX_BYTES ||
        head.toString('latin1', 0, 4) !== 'RIFF' ||
        head.toString('latin1', 8, 12) !== 'WEBP'
      )
        problems.push({ file: entry, reason: 'not a WebP picture (of at most 10 MB)' });
      renditions.set(String(size), () => blob.read());
    }
    if (renditions.size === 0)
      problems.push({
        file: str(i._line),
        reason: `its picture is not in the archive (${pictureEntry(str(i.id), '<size>')})`,
      });
    else if (!haveStore) problems.push({ file: str(i._line), reason: 'no file store to put the picture in' });
    pictures.set(str(i.id), renditions);
  }
  const claims: Claim[] = [];
  const claimBlob = archive.blobs.get(CLAIMS_FILE);
  if (!claimBlob) problems.push({ file: CLAIMS_FILE, reason: 'not in the archive' });
  else {
    const emails = new Set<string>();
    for (const { where, value } of await jsonLines(CLAIMS_FILE, claimBlob, problems)) {
      const why = schemaProblem(Claim, value);
      if (why) {
        problems.push({ file: where, reason: why });
        continue;
      }
      const claim = value as Claim;
      if (!has('users', claim.user_id))
        problems.push({ file: where, reason: `a user not in users.jsonl (${claim.user_id})` });
      if (emails.has(claim.email.toLowerCase()))
        problems.push({ file: where, reason: 'a second line with this email' });
      emails.add(claim.email.toLowerCase());
      claims.push(claim);
    }
  }
  if (problems.length > 0) refuse();
  for (const k of KINDS) for (const r of rows[k.kind]) delete r._line;
  return { manifest: m, settings: settings as Settings, rows, bytes, claims, emojiImages, pictures };
}

type EmojiImage = Awaited<ReturnType<typeof prepareEmojiImage>>;

/**
 * Custom emoji as an upload of one is checked: names that are shortcodes here, none a standard
 * emoji's or another's of the archive, at most MAX_EMOJI_ALIASES aliases, and an image that is
 * one an emoji may have. Answers each one's image, re-encoded as an upload's is.
 */
async function checkEmoji(
  archive: ExportArchive,
  list: readonly Row[],
  haveStore: boolean,
  problems: ExportProblem[],
): Promise<Map<string, EmojiImage>> {
  const images = new Map<string, EmojiImage>();
  const seen = new Set<string>();
  const isShortcode = (n: unknown) => {
    try {
      return typeof n === 'string' && checkShortcode(n) === n;
    } catch {
      return false;
    }
  };
  for (const e of list) {
    const where = str(e._line);
    const code = str(e.shortcode);
    const aliases = e.aliases;
    if (!Array.isArray(aliases) || aliases.length > MAX_EMOJI_ALIASES) {
      problems.push({ file: where, reason: `"aliases" must be a list of at most ${MAX_EMOJI_ALIASES} shortcodes` });
      continue;
    }
    const names = [code, ...aliases];
    const bad = names.find((n) => !isShortcode(n));
    if (bad !== undefined) {
      problems.push({ file: where, reason: `:${String(bad)}: is not a shortcode (2–32 of a-z, 0-9, _, - and +)` });
      continue;
    }
    const standard = names.find((n) => standardShortcodes().has(n));
    if (standard) problems.push({ file: where, reason: `:${standard}: is a standard emoji's name` });
    const twice = names.find((n) => seen.has(n));
    if (twice) problems.push({ file: where, reason: `:${twice}: is a name of another emoji of the archive` });
    for (const n of names) seen.add(n);
    const entry = emojiEntry(code);
    const blob = archive.blobs.get(entry);
    if (!blob) {
      problems.push({ file: where, reason: `its image is not in the archive (${entry})` });
      continue;
    }
    if (!haveStore) {
      problems.push({ file: entry, reason: 'no file store to put the image in' });
      continue;
    }
    try {
      images.set(code, await prepareEmojiImage(await blob.read(), code));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      problems.push({ file: entry, reason: `not an emoji image: ${err.message}` });
    }
  }
  return images;
}

/** The JSON values of a JSONL entry, each with its `file:line`; a line that is not JSON is a problem. */
async function jsonLines(name: string, blob: ExportBlob, problems: ExportProblem[]) {
  const out: { where: string; value: unknown }[] = [];
  const lines = (await blob.read()).toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (!l.trim()) continue;
    try {
      out.push({ where: `${name}:${i + 1}`, value: JSON.parse(l) });
    } catch {
      problems.push({ file: `${name}:${i + 1}`, reason: 'not JSON' });
    }
  }
  return out;
}

/**
 * Import a Mattermost bulk export (the JSONL of `mmctl export create`, mattermost-export.ts) into
 * a workspace's app: `parley import mattermost` (packages/cli).
 *
 * One team of the export becomes the workspace (`team`, required when the export has several):
 * its open channels public, its private ones private, with their members; the export's DMs and
 * group DMs that involve the team's people become the DMs of their member sets. The whole export
 * is checked first: any problem refuses it before a write. Then the rows are written as the Slack
 * import writes them (slack.ts: seqs from `takeSeqs`, one `message.new` a message in the event
 * log with its final state, imported history read), ALL in one transaction.
 *
 * Idempotent by construction: user ids (`mm-<username>`), channel ids (`public:<name>`) and
 * message ids (a UUIDv7 from the post's `create_at` and a hash of app, channel, time and author —
 * Mattermost's own identity of a post) are derived from the export, and rows already there are
 * skipped. A later export's posts older than a channel's newest are put in time order as the
 * Slack import does (`renumberChannel`).
 *
 * The file store is no part of the transaction: attachments (with their thumbnails) are put
 * before the rows, under keys derived from the export, which a re-run writes over; custom emoji
 * images under random keys (their URLs must not be guessable), so an import that fails after
 * putting them leaves those bytes unreferenced — a few KiB each.
 */
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { THUMB_SIZES, USERNAME_PATTERN } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Database, type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { sharp } from '../../platform/lazy-deps.js';
import type { BlobStore } from '../../platform/storage/index.js';
import { dmId } from '../channels/index.js';
import {
  type FileRow,
  presentAttachment,
  SNIFF_BYTES,
  sanitizeName,
  sniff,
  THUMBNAILED,
  thumbnails,
} from '../files/index.js';
import type { MessageRow } from '../messages/index.js';
import { type ExportProblem, ExportRefusedError, ImportInputError } from './errors.js';
import {
  type MattermostExport,
  type MmAttachment,
  type MmReaction,
  type MmReply,
  readMattermostExport,
} from './mattermost-export.js';
import { convertMattermostText } from './mattermost-text.js';
import { type PersonPicture, pictureRefusal, prepareEmoji, storePictures, writeEmoji } from './media.js';
import { usernamePicker, workspaceMembersByEmail } from './people.js';
import { fallsInGap, liveSinceImport, renumberChannel } from './slack.js';
import { importedFileRow, insertNew, storedMessageIds, writeFreshMessages } from './write.js';
import { archiveFromEntries, type ExportArchive, type ExportBlob } from './zip.js';

// ---- the report ---------------------------------------------------------------------------

/** Why something of the export was not imported. */
export type MattermostSkipReason =
  | 'join/leave message'
  | 'empty message'
  | 'file not in export'
  | 'file bytes not imported'
  | 'file too large'
  | 'invalid reaction name'
  | 'too many reaction types'
  | 'thread parent not imported'
  | 'custom emoji not imported'
  | 'profile picture not imported'
  /** A DM of people of other teams only (the export holds several; one is imported). */
  | 'conversation of another team'
  /** A DM or group DM with fewer than two people here (a DM with oneself): not imported. */
  | 'conversation with fewer than two people';

export interface MattermostSkip {
  reason: MattermostSkipReason;
  /** The channel's name, or a DM's members (`ada, bob`). */
  channel: string;
  /** The post's `create_at`, ISO. */
  at?: string;
  detail?: string;
}

/** A Mattermost user whose username here is not their Mattermost username. */
export interface MattermostRename {
  /** Their Mattermost username. */
  wanted: string;
  /** Their username here; null: none (not a valid one). */
  username: string | null;
  reason: 'taken' | 'reserved' | 'invalid';
  held_by?: 'user' | 'group';
}

export interface MattermostImportReport {
  dry_run: boolean;
  /** The team imported (its name), or null when the export has none (DMs only). */
  team: string | null;
  users: {
    matched: number;
    created: number;
    existing: number;
    /** People deleted in Mattermost (`delete_at`): kept as authors only. */
    deactivated: string[];
    bots: number;
    /** Profile pictures imported (`profile_image`), for the people created. */
    pictures: number;
    renamed: MattermostRename[];
  };
  channels: { imported: number; existing: number; archived: number; private: number; group_dms: number; dms: number };
  messages: { imported: number; existing: number; replies: number; system: number };
  reactions: number;
  pins: number;
  /** Posts people had flagged in Mattermost, saved for them here ("save for later"). */
  saved: number;
  files: { attached: number; skipped: number };
  skipped: {
    total: number;
    by_reason: Partial<Record<MattermostSkipReason, number>>;
    items: MattermostSkip[];
  };
  /** Channels renumbered to put posts from a gap in the past in time order (docs/cli.md). */
  reordered: string[];
  /** Custom emoji: added, or of a name the workspace has already (left as they are). */
  emoji: { imported: number; existing: number };
}

export interface MattermostImportOptions {
  dryRun?: boolean;
  /** The team to import, by name; needed when the export has more than one. */
  team?: string;
  /** After each conversation (and once before the first, with done 0). */
  onProgress?: (done: number, total: number, channel: string | null) => void;
  /** Where attachments whose bytes the export holds (`data/<path>`) are stored; without one they are placeholders. */
  store?: BlobStore;
  /** Largest file attached, in bytes (the server's upload limit). */
  maxFileBytes?: number;
  /**
   * The deployment's public URL (PARLEY_PUBLIC_URL): a profile picture's URL starts with it, as an
   * upload's does; without it, profile pictures are not imported (skipped, with that reason).
   */
  publicUrl?: string;
}

// ---- ids ------------------------------------------------------------------------------------

const USERNAME = new RegExp(USERNAME_PATTERN);
const REACTION = /^[A-Za-z0-9_+\-:]{1,32}$/;
const MAX_REACTION_TYPES = 25;
const LATEST_REACTIONS = 10;

/**
 * A UUIDv7 whose time is the post's and whose other bits are a hash of what names it: app,
 * channel, `create_at` and author (how Mattermost itself tells posts apart), and `n` for the
 * n-th post of one author at one millisecond in one channel.
 */
export function mattermostMessageId(appId: string, cid: string, createAt: number, user: string, n = 0): string {
  const h = createHash('sha256')
    .update(`${appId}\nmattermost\n${cid}\n${createAt}\n${user.toLowerCase()}${n ? `\n${n}` : ''}`)
    .digest();
  const b = Buffer.alloc(16);
  b.writeUIntBE(Math.max(0, Math.min(createAt, 2 ** 48 - 1)), 0, 6);
  h.copy(b, 6, 0, 10);
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const userIdOf = (username: string) => `mm-${username.toLowerCase()}`.slice(0, 64);
const slugOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'channel';
const key = (s: string) => s.toLowerCase();
const iso = (ms: number) => new Date(ms).toISOString();

/** Mattermost's join/leave notes: noise here, as the Slack import treats Slack's. */
const NOISE = /^system_(join|leave|add_to|remove_from)_/;

// ---- the import ---------------------------------------------------------------------------

interface Person {
  userId: string;
  handle: string;
  name: string;
}

/** A post of the export, a reply or not, as one message to write. */
interface Post {
  user: string;
  message: string;
  props?: unknown;
  flagged_by?: string[];
  create_at: number;
  edit_at?: number;
  type?: string;
  is_pinned?: boolean;
  reactions?: MmReaction[];
  attachments?: MmAttachment[];
  replies?: MmReply[];
}

interface Conversation {
  kind: 'public' | 'private' | 'group_dm' | 'dm';
  /** Its Mattermost name, or a DM's members: how the report names it. */
  label: string;
  displayName: string | null;
  header: string | null;
  purpose: string | null;
  archived: boolean;
  /** Members here, with their role; a DM's are its member set. */
  members: { userId: string; role: string }[];
  posts: Post[];
}

/**
 * Import a Mattermost bulk export into the workspace `appId`: an archive (`openMattermostExport`,
 * or entries path → bytes). The whole export is checked first: any problem refuses it with
 * `ExportRefusedError` (every problem, file:line and reason) before anything is written; a team
 * that is not there, or none chosen of several, is an `ImportInputError`. Then every write is ONE
 * transaction: a failure part-way leaves nothing.
 */
export async function importMattermostExport(
  database: Database,
  appId: string,
  input: ExportArchive | ReadonlyMap<string, Uint8Array>,
  opts: MattermostImportOptions = {},
): Promise<MattermostImportReport> {
  const db = database.db;
  const dryRun = !!opts.dryRun;
  const archive = 'blobs' in input && 'problems' in input ? input : archiveFromEntries(input);
  const exp = await readMattermostExport(archive);
  if (exp.problems.length > 0) throw new ExportRefusedError(exp.problems);
  const team = chooseTeam(exp, opts.team);

  const [ws] = await db
    .select({ appId: schema.workspaces.appId })
    .from(schema.workspaces)
    .where(eq(schema.workspaces.appId, appId));
  if (!ws) throw new ImportInputError(`no workspace with id ${appId}`);

  const report: MattermostImportReport = {
    dry_run: dryRun,
    team,
    users: { matched: 0, created: 0, existing: 0, deactivated: [], bots: 0, pictures: 0, renamed: [] },
    channels: { imported: 0, existing: 0, archived: 0, private: 0, group_dms: 0, dms: 0 },
    messages: { imported: 0, existing: 0, replies: 0, system: 0 },
    reactions: 0,
    pins: 0,
    saved: 0,
    files: { attached: 0, skipped: 0 },
    skipped: { total: 0, by_reason: {}, items: [] },
    reordered: [],
    emoji: { imported: 0, existing: 0 },
  };
  const skip = (s: MattermostSkip) => {
    report.skipped.total++;
    report.skipped.by_reason[s.reason] = (report.skipped.by_reason[s.reason] ?? 0) + 1;
    report.skipped.items.push(s);
  };
  const pictureSkipped = (handle: string, why: string) =>
    skip({ channel: '', reason: 'profile picture not imported', detail: `${handle} (${why})` });

  // ---- what of the export is the team's ----
  const inTeam = (name: string) => team === null || key(name) === key(team);
  const teamMembers = new Set(
    exp.users.filter((u) => team === null || (u.teams ?? []).some((t) => inTeam(t.name))).map((u) => key(u.username)),
  );
  const channels = exp.channels.filter((c) => inTeam(c.team));
  const postsOf = new Map<string, Post[]>(); // channel name → its posts
  for (const p of exp.posts)
    if (inTeam(p.team)) {
      const got = postsOf.get(key(p.channel));
      if (got) got.push(p);
      else postsOf.set(key(p.channel), [p]);
    }
  // DMs: one a member set, from direct_channel lines and the member sets of direct_post lines.
  const dms = new Map<string, { members: string[]; posts: Post[] }>();
  const dmOf = (members: string[]) => {
    const set = [...new Set(members.map(key))].sort();
    const k = set.join(',');
    let d = dms.get(k);
    if (!d) {
      d = { members: set, posts: [] };
      dms.set(k, d);
    }
    return d;
  };
  for (const d of exp.directChannels) dmOf(d.members);
  for (const p of exp.directPosts) dmOf(p.channel_members).posts.push(p);
  for (const [k, d] of dms)
    if (team !== null && !d.members.some((m) => teamMembers.has(m))) {
      skip({
        channel: d.members.join(', '),
        reason: 'conversation of another team',
        detail: `${d.posts.length} post(s)`,
      });
      dms.delete(k);
    }

  // The people to bring: the team's, and everyone its channels and DMs name.
  const wanted = new Set(teamMembers);
  const named = (p: Post) => {
    wanted.add(key(p.user));
    for (const r of p.reactions ?? []) wanted.add(key(r.user));
    for (const r of p.replies ?? []) named(r);
  };
  for (const list of postsOf.values()) for (const p of list) named(p);
  for (const d of dms.values()) {
    for (const m of d.members) wanted.add(m);
    for (const p of d.posts) named(p);
  }

  // ---- users: matched by email to the workspace's members, created otherwise ----
  const { byEmail, users: matchedUsers } = await workspaceMembersByEmail(db, appId);
  const existingUserIds = new Set(
    (
      await db
        .select({ id: schema.users.id })
        .from(schema.users)
        .where(and(eq(schema.users.appId, appId), sql`${schema.users.id} like 'mm-%'`))
    ).map((r) => r.id),
  );
  const pickName = await usernamePicker(db, appId, [...wanted]);
  const people = new Map<string, Person>(); // lower username → who
  const deactivated = new Set<string>(); // user ids
  const toCreate: (typeof schema.users.$inferInsert)[] = [];
  const pictures: PersonPicture[] = [];
  // People an account with the same email, verified, may take over when it joins (accounts/claims.ts).
  const claims: (typeof schema.importClaims.$inferInsert)[] = [];
  // Users and bots alike: one namespace of usernames in Mattermost, one kind of user here.
  const accounts = [
    ...exp.users.map((u) => ({
      username: u.username,
      email: u.email,
      bot: false,
      gone: (u.delete_at ?? 0) > 0,
      name:
        [u.first_name, u.last_name]
          .filter((s) => s?.trim())
          .join(' ')
          .trim() ||
        u.nickname?.trim() ||
        u.username,
      title: u.position?.trim() || null,
      status: u.custom_status,
      picture: u.profile_image,
    })),
    ...exp.bots.map((b) => ({
      username: b.username,
      email: undefined,
      bot: true,
      gone: (b.delete_at ?? 0) > 0,
      name: b.display_name?.trim() || b.username,
      title: null,
      status: undefined,
      picture: b.profile_image,
    })),
  ];
  for (const u of accounts) {
    if (!wanted.has(key(u.username))) continue;
    const name = u.name.slice(0, 200);
    const matched = u.email ? byEmail.get(u.email.toLowerCase()) : undefined;
    if (matched) {
      report.users.matched++;
      const m = matchedUsers.get(matched);
      people.set(key(u.username), { userId: matched, handle: m?.username ?? m?.name ?? name, name: m?.name ?? name });
      continue;
    }
    const userId = userIdOf(u.username);
    let username: string | null = null;
    // Deleted in Mattermost: kept as the author of their posts, but no @name (not mentionable)
    // and no channel memberships (a DM stays theirs: its member set is what it is).
    if (u.gone) {
      deactivated.add(userId);
      report.users.deactivated.push(`${name} (@${u.username})`);
    } else if (USERNAME.test(u.username)) {
      const chosen = await pickName(u.username, userId);
      username = chosen.username;
      if (chosen.why && !existingUserIds.has(userId))
        report.users.renamed.push({ wanted: u.username, username, ...chosen.why });
    } else if (!existingUserIds.has(userId))
      report.users.renamed.push({ wanted: u.username, username: null, reason: 'invalid' });
    people.set(key(u.username), { userId, handle: username ?? name, name });
    if (!u.gone && !u.bot && u.email?.trim())
      claims.push({ appId, email: u.email.trim().toLowerCase(), userId, source: 'mattermost' });
    if (u.bot) report.users.bots++;
    if (existingUserIds.has(userId)) {
      report.users.existing++;
      continue;
    }
    report.users.created++;
    // A status that expires would need the job that clears it: only lasting ones are kept.
    const text = u.status?.text?.trim();
    const lasting = text && (!u.status?.expires_at || u.status.expires_at.startsWith('0001-'));
    const row: typeof schema.users.$inferInsert = {
      appId,
      id: userId,
      name,
      username,
      title: u.title,
      ...(lasting ? { statusText: text.slice(0, 200), statusEmoji: u.status?.emoji?.slice(0, 64) || null } : {}),
    };
    toCreate.push(row);
    if (u.picture) {
      // The picture is read and rendered when written (not held for everyone at once).
      const blob = archive.blobs.get(`data/${u.picture}`) ?? archive.blobs.get(u.picture);
      const why = pictureRefusal(blob, opts);
      if (why || !blob) pictureSkipped(`@${u.username}`, why ?? '');
      else pictures.push({ row, handle: `@${u.username}`, blob });
    }
  }
  const person = (username: string) => people.get(key(username)) as Person;

  const { emoji, existing: emojiExisting } = await prepareEmoji(
    db,
    appId,
    exp.emoji.map((e) => ({
      name: e.name,
      file: e.image,
      blob: archive.blobs.get(`data/${e.image}`) ?? archive.blobs.get(e.image),
    })),
    !!opts.store,
    (name, why) => skip({ channel: '', reason: 'custom emoji not imported', detail: `:${name}: ${why}` }),
  );
  report.emoji = { imported: emoji.length, existing: emojiExisting };

  // ---- the conversations ----
  const list: Conversation[] = [];
  const membersOf = new Map<string, { userId: string; role: string }[]>(); // channel → members
  for (const u of exp.users) {
    const p = people.get(key(u.username));
    if (!p || deactivated.has(p.userId)) continue;
    for (const t of u.teams ?? [])
      if (inTeam(t.name))
        for (const c of t.channels ?? []) {
          const role = (c.roles ?? '').split(/\s+/).includes('channel_admin') ? 'admin' : 'member';
          const got = membersOf.get(key(c.name));
          if (got) got.push({ userId: p.userId, role });
          else membersOf.set(key(c.name), [{ userId: p.userId, role }]);
        }
  }
  for (const c of channels)
    list.push({
      kind: c.type === 'P' ? 'private' : 'public',
      label: c.name,
      displayName: c.display_name?.trim() || null,
      header: c.header?.trim() || null,
      purpose: c.purpose?.trim() || null,
      archived: (c.deleted_at ?? 0) > 0,
      members: dedupe(membersOf.get(key(c.name)) ?? []),
      posts: postsOf.get(key(c.name)) ?? [],
    });
  for (const d of dms.values()) {
    const members = dedupe(d.members.map((m) => ({ userId: person(m).userId, role: 'member' })));
    list.push({
      kind: members.length > 2 ? 'group_dm' : 'dm',
      label: d.members.join(', '),
      displayName: null,
      header: null,
      purpose: null,
      archived: false,
      members,
      posts: d.posts,
    });
  }
  // A channel without posts is created at the time of the export's first post: a time that is
  // the same on every run of the export, which is how a re-run knows the channel as its own.
  let first = Number.POSITIVE_INFINITY;
  for (const c of list) for (const p of c.posts) first = Math.min(first, p.create_at);
  const fallbackCreated = Number.isFinite(first) ? first : 0;

  const teamChannels = new Set(channels.map((c) => key(c.name)));
  const ctx = {
    user: (username: string) => people.get(username) ?? null,
    channel: (name: string) => (teamChannels.has(name) ? slugOf(name) : null),
  };
  const write = async (q: Tx | Database['db']) => {
    const imageRows = dryRun ? [] : await storePictures(appId, pictures, opts, pictureSkipped);
    if (!dryRun) report.users.pictures = imageRows.length;
    if (dryRun) report.users.pictures = pictures.length;
    if (!dryRun) await insertNew(q, schema.users, toCreate);
    await insertNew(q, schema.images, imageRows);
    if (!dryRun) await insertNew(q, schema.importClaims, claims);
    if (!dryRun) await writeEmoji(q, appId, emoji, opts.store);
    opts.onProgress?.(0, list.length, null);
    const problems: ExportProblem[] = [];
    let done = 0;
    for (const c of list) {
      const stats = await importConversation(q, appId, c, {
        teamSlug: slugOf(team ?? 'dm'),
        fallbackCreated,
        person,
        ctx,
        blobs: archive.blobs,
        dryRun,
        skip,
        store: opts.store,
        maxFileBytes: opts.maxFileBytes ?? Number.POSITIVE_INFINITY,
      });
      opts.onProgress?.(++done, list.length, c.label);
      if (stats.problem) problems.push({ file: exp.file, reason: stats.problem });
      if (stats.reordered) report.reordered.push(stats.reordered);
      if (stats.skipped) continue;
      report.channels[stats.existed ? 'existing' : 'imported']++;
      if (c.kind === 'private') report.channels.private++;
      if (c.kind === 'group_dm') report.channels.group_dms++;
      if (c.kind === 'dm') report.channels.dms++;
      if (c.archived) report.channels.archived++;
      report.messages.imported += stats.imported;
      report.messages.existing += stats.existing;
      report.messages.replies += stats.replies;
      report.messages.system += stats.system;
      report.reactions += stats.reactions;
      report.pins += stats.pins;
      report.saved += stats.saved;
      report.files.attached += stats.filesAttached;
      report.files.skipped += stats.filesSkipped;
    }
    // Thrown inside the transaction: it rolls back, nothing of the export is kept.
    if (problems.length > 0) throw new ExportRefusedError(problems);
    if (report.reordered.length > 0 && !dryRun)
      await q
        .insert(schema.serverState)
        .values({ name: 'data_epoch', value: randomUUID() })
        .onConflictDoUpdate({
          target: schema.serverState.name,
          set: { value: randomUUID(), updatedAt: sql`now()` },
        });
  };
  if (dryRun) await write(db);
  else await db.transaction(async (tx) => write(tx));
  return report;
}

function dedupe(members: { userId: string; role: string }[]) {
  const seen = new Map<string, { userId: string; role: string }>();
  for (const m of members) if (!seen.has(m.userId) || m.role === 'admin') seen.set(m.userId, m);
  return [...seen.values()];
}

/** The team to import: the one named, or the only one; several and none named is refused. */
function chooseTeam(exp: MattermostExport, wanted: string | undefined): string | null {
  const names = exp.teams.map((t) => t.name);
  if (wanted !== undefined) {
    const t = exp.teams.find((x) => key(x.name) === key(wanted));
    if (!t)
      throw new ImportInputError(
        `the export has no team ${wanted}; ${names.length ? `its teams: ${names.join(', ')}` : 'it has no teams'}`,
      );
    return t.name;
  }
  if (names.length > 1)
    throw new ImportInputError(
      `the export has ${names.length} teams (${names.join(', ')}): choose the one to import with --team NAME`,
    );
  return names[0] ?? null;
}

interface Stats {
  existed: boolean;
  problem?: string;
  reordered?: string;
  skipped?: boolean;
  imported: number;
  existing: number;
  replies: number;
  system: number;
  reactions: number;
  pins: number;
  saved: number;
  filesAttached: number;
  filesSkipped: number;
}

interface Env {
  teamSlug: string;
  fallbackCreated: number;
  person: (username: string) => Person;
  ctx: Parameters<typeof convertMattermostText>[1];
  blobs: ReadonlyMap<string, ExportBlob>;
  dryRun: boolean;
  skip: (s: MattermostSkip) => void;
  store: BlobStore | undefined;
  maxFileBytes: number;
}

/**
 * The cid of a conversation. A channel: `public:<name>` (a private one `group:<name>`), or
 * `…:<name>-<team>` when another channel has that cid; a channel is this import's when it has
 * its creation time or holds one of its posts. A DM or group DM: `dm:<id of its member set>`,
 * the DM those people get here too (`dmId`), existing or not.
 */
async function chooseCid(
  q: Queryable,
  appId: string,
  c: Conversation,
  createdAt: Date,
  idsFor: (cid: string) => string[],
  teamSlug: string,
) {
  if (c.kind === 'dm' || c.kind === 'group_dm') {
    const id = dmId(c.members.map((m) => m.userId));
    const cid = `dm:${id}`;
    const [row] = await q
      .select({ cid: schema.channels.cid })
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
    return { cid, id, existed: !!row };
  }
  const type = c.kind === 'private' ? 'group' : 'public';
  const slug = slugOf(c.label);
  for (const id of [slug, `${slug}-${teamSlug}`.slice(0, 64)]) {
    const cid = `${type}:${id}`;
    const [row] = await q
      .select({ createdAt: schema.channels.createdAt })
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
    if (!row) return { cid, id, existed: false };
    if (row.createdAt.getTime() === createdAt.getTime()) return { cid, id, existed: true };
    const ids = idsFor(cid);
    if (ids.length === 0) continue;
    const [ours] = await q
      .select({ id: schema.messages.id })
      .from(schema.messages)
      .where(
        and(
          eq(schema.messages.appId, appId),
          eq(schema.messages.cid, cid),
          inArray(schema.messages.id, ids.slice(0, 1000)),
        ),
      )
      .limit(1);
    if (ours) return { cid, id, existed: true };
  }
  throw new ImportInputError(`channels ${type}:${slug} and ${type}:${slug}-${teamSlug} are both taken`);
}

const MAX_PARTICIPANTS = 50;

/** The thumbnails, blurhash and size of an imported image, on its row; `failed` when it does not decode. */
async function addThumbnails(store: BlobStore, f: FileRow, bytes: Buffer): Promise<void> {
  try {
    const meta = await sharp(bytes).metadata();
    const made = await thumbnails(bytes, THUMB_SIZES);
    const thumbs: Record<string, string> = {};
    for (const [size, webp] of made.thumbs) {
      const k = `${f.storageKey}.t${size}`;
      await store.putBytes(k, webp, { contentType: 'image/webp' });
      thumbs[String(size)] = k;
    }
    // Orientations 5–8 turn the picture a quarter: as shown, width and height swap.
    const turned = (meta.orientation ?? 1) >= 5;
    const w = meta.width ?? null;
    const h = meta.pageHeight ?? meta.height ?? null;
    Object.assign(f, {
      thumbs,
      blurhash: made.blurhash,
      width: turned ? h : w,
      height: turned ? w : h,
      processing: 'ready',
    });
  } catch {
    f.processing = 'failed';
  }
}

/**
 * A thread's participants after a reply by `who`, as a live reply leaves them (messages/actions.ts):
 * the parent's author first, then each replier once, at most 50.
 */
function withParticipant(list: string[], parentAuthor: string, who: string): string[] {
  if (list.includes(who) || list.length >= MAX_PARTICIPANTS) return list;
  if (list.length === 0 && parentAuthor !== who) return [parentAuthor, who];
  return [...list, who];
}

/**
 * The message attachments of a post (`props.attachments`, as integrations and webhooks post
 * them: a build result, an alert) as quoted markdown, so their text is not lost: pretext, the
 * title (a link when it has one), the text (else the fallback) and each field.
 */
export function attachmentsText(props: unknown): string {
  const list = props && typeof props === 'object' ? (props as { attachments?: unknown }).attachments : undefined;
  if (!Array.isArray(list)) return '';
  const str = (o: Record<string, unknown>, k: string) => {
    const v = o[k];
    return typeof v === 'string' && v.trim() ? v.trim() : null;
  };
  const blocks: string[] = [];
  for (const a of list) {
    if (!a || typeof a !== 'object') continue;
    const x = a as Record<string, unknown>;
    const title = str(x, 'title');
    const link = str(x, 'title_link');
    const lines = [
      str(x, 'pretext'),
      title ? (link ? `**[${title}](${link})**` : `**${title}**`) : null,
      str(x, 'text') ?? str(x, 'fallback'),
    ];
    for (const f of Array.isArray(x.fields) ? x.fields : []) {
      if (!f || typeof f !== 'object') continue;
      const t = str(f as Record<string, unknown>, 'title');
      const v = str(f as Record<string, unknown>, 'value');
      if (t || v) lines.push(t && v ? `**${t}**: ${v}` : (t ?? v));
    }
    const body = lines.filter((l): l is string => !!l).join('\n');
    if (body)
      blocks.push(
        body
          .split('\n')
          .map((l) => `> ${l}`)
          .join('\n'),
      );
  }
  return blocks.join('\n\n');
}

/** `📎 report.pdf — not in the export`: an attachment the post had. */
function filePlaceholder(name: string, why: MattermostSkipReason) {
  const reason =
    why === 'file too large'
      ? 'too large to import'
      : why === 'file bytes not imported'
        ? 'not imported'
        : 'not in the export';
  return `📎 ${name.replace(/[\n\r]+/g, ' ')} — ${reason}`;
}

async function importConversation(q: Tx | Database['db'], appId: string, c: Conversation, env: Env): Promise<Stats> {
  const stats: Stats = {
    existed: false,
    imported: 0,
    existing: 0,
    replies: 0,
    system: 0,
    reactions: 0,
    pins: 0,
    saved: 0,
    filesAttached: 0,
    filesSkipped: 0,
  };
  const isDm = c.kind === 'dm' || c.kind === 'group_dm';
  if (isDm && c.members.length < 2) {
    env.skip({
      channel: c.label,
      reason: 'conversation with fewer than two people',
      detail: `${c.posts.length} post(s)`,
    });
    stats.skipped = true;
    return stats;
  }
  // Every post and reply, in time order (a reply after its post at the same millisecond).
  const entries: { p: Post; parent: Post | null }[] = [];
  for (const p of c.posts) {
    entries.push({ p, parent: null });
    for (const r of p.replies ?? []) entries.push({ p: r, parent: p });
  }
  entries.sort((a, b) => a.p.create_at - b.p.create_at);
  const firstAt = entries[0]?.p.create_at ?? env.fallbackCreated;
  const createdAt = new Date(firstAt);

  // Message ids derive from the cid; a channel already here is known as this import's by them.
  const idsOf = (cid: string) => {
    const ids = new Map<Post, string>();
    const n = new Map<string, number>();
    for (const { p } of entries) {
      const k = `${p.create_at}\n${key(p.user)}`;
      const i = n.get(k) ?? 0;
      n.set(k, i + 1);
      ids.set(p, mattermostMessageId(appId, cid, p.create_at, p.user, i));
    }
    return ids;
  };
  const { cid, id, existed } = await chooseCid(
    q,
    appId,
    c,
    createdAt,
    (candidate) => [...idsOf(candidate).values()],
    env.teamSlug,
  );
  const idOf = idsOf(cid);
  stats.existed = existed;

  const rows: MessageRow[] = [];
  const rowOf = new Map<Post, MessageRow>();
  const reactionRows: (typeof schema.reactions.$inferInsert)[] = [];
  const flagRows: { userId: string; messageId: string }[] = [];
  const savedRows: { userId: string; messageId: string }[] = [];
  const fileRows: FileRow[] = [];
  const fileBytes = new Map<string, ExportBlob>();
  for (const { p, parent } of entries) {
    const at = new Date(p.create_at);
    const where = { channel: c.label, at: at.toISOString() };
    if (p.type && NOISE.test(p.type)) {
      env.skip({ ...where, reason: 'join/leave message', detail: p.type });
      continue;
    }
    let parentRow: MessageRow | null = null;
    if (parent) {
      parentRow = rowOf.get(parent) ?? null;
      if (!parentRow) {
        env.skip({ ...where, reason: 'thread parent not imported', detail: iso(parent.create_at) });
        continue;
      }
    }
    const author = env.person(p.user);
    const msgId = idOf.get(p) as string;
    const system = !!p.type?.startsWith('system_');
    const source = [p.message, attachmentsText(p.props)].filter((t) => t.trim()).join('\n\n');
    let converted = system
      ? { text: source, mentionedUsers: [] as string[], here: false, channel: false }
      : convertMattermostText(source, env.ctx);
    const attachments: FileRow[] = [];
    const placeholders: string[] = [];
    for (const a of p.attachments ?? []) {
      const name = sanitizeName(path.posix.basename(a.path));
      const blob = env.blobs.get(`data/${a.path}`) ?? env.blobs.get(a.path);
      const reason: MattermostSkipReason | null = !blob
        ? 'file not in export'
        : !env.store
          ? 'file bytes not imported'
          : blob.size > env.maxFileBytes
            ? 'file too large'
            : null;
      if (reason || !blob) {
        env.skip({ ...where, reason: reason ?? 'file not in export', detail: a.path });
        stats.filesSkipped++;
        placeholders.push(filePlaceholder(name, reason ?? 'file not in export'));
        continue;
      }
      // Read (through the zip's limits) for its type and hash, then let go: read again when stored.
      const buf = await blob.read();
      const sniffed = await sniff(buf.subarray(0, SNIFF_BYTES), name, undefined);
      const fileId = mattermostMessageId(appId, `${cid}/file/${a.path}`, p.create_at, p.user);
      attachments.push(
        importedFileRow({
          appId,
          id: fileId,
          cid,
          userId: author.userId,
          messageId: msgId,
          name,
          bytes: buf,
          sniffed,
          declaredType: null,
          typeMismatch: false,
          at,
        }),
      );
      fileBytes.set(fileId, blob);
    }
    if (placeholders.length > 0)
      converted = { ...converted, text: [converted.text, ...placeholders].filter((t) => t.trim()).join('\n') };
    // A post with nothing in it is skipped, unless a thread hangs on it.
    if (!converted.text.trim() && attachments.length === 0 && !(p.replies ?? []).length) {
      env.skip({ ...where, reason: 'empty message' });
      continue;
    }
    if (parentRow) {
      parentRow.replyCount++;
      parentRow.lastReplyAt = at;
      parentRow.threadParticipants = withParticipant(parentRow.threadParticipants, parentRow.userId, author.userId);
    }
    // Reactions: one a person and name; the latest few on the row, as a live reaction leaves them.
    const counts: Record<string, number> = {};
    const mine: { type: string; user_id: string; created_at: string; ms: number }[] = [];
    for (const r of p.reactions ?? []) {
      if (!REACTION.test(r.emoji_name)) {
        env.skip({ ...where, reason: 'invalid reaction name', detail: r.emoji_name });
        continue;
      }
      if (!(r.emoji_name in counts) && Object.keys(counts).length >= MAX_REACTION_TYPES) {
        env.skip({ ...where, reason: 'too many reaction types', detail: r.emoji_name });
        continue;
      }
      const reactor = env.person(r.user).userId;
      if (mine.some((x) => x.user_id === reactor && x.type === r.emoji_name)) continue;
      counts[r.emoji_name] = (counts[r.emoji_name] ?? 0) + 1;
      const when = new Date(r.create_at);
      mine.push({ type: r.emoji_name, user_id: reactor, created_at: when.toISOString(), ms: r.create_at });
      reactionRows.push({ appId, messageId: msgId, userId: reactor, type: r.emoji_name, createdAt: when });
    }
    const latest = mine
      .sort((a, b) => b.ms - a.ms || a.user_id.localeCompare(b.user_id))
      .slice(0, LATEST_REACTIONS)
      .map(({ ms: _ms, ...r }) => r);
    const editedAt = p.edit_at && p.edit_at > 0 ? new Date(p.edit_at) : null;
    const row: MessageRow = {
      appId,
      id: msgId,
      cid,
      seq: 0,
      userId: author.userId,
      type: system ? 'system' : 'regular',
      text: converted.text,
      parentId: parentRow?.id ?? null,
      showInChannel: false,
      replyCount: 0,
      lastReplyAt: null,
      threadParticipants: [],
      quotedMessageId: null,
      poll: null,
      reactionCounts: counts,
      latestReactions: latest,
      mentionedUsers: converted.mentionedUsers,
      mentionedHere: converted.here,
      mentionedChannel: converted.channel,
      shadowed: false,
      attachments: attachments.map(presentAttachment),
      previews: [],
      hiddenPreviews: [],
      pinnedAt: p.is_pinned ? at : null,
      pinnedBy: p.is_pinned ? author.userId : null,
      editedAt,
      createdAt: at,
      updatedAt: editedAt && editedAt > at ? editedAt : at,
      deletedAt: null,
    };
    rowOf.set(p, row);
    rows.push(row);
    fileRows.push(...attachments);
    for (const u of converted.mentionedUsers) if (u !== author.userId) flagRows.push({ userId: u, messageId: msgId });
    for (const u of new Set((p.flagged_by ?? []).map((f) => env.person(f).userId)))
      savedRows.push({ userId: u, messageId: msgId });
  }

  // What an earlier run stored is left as it is.
  const stored = existed
    ? await storedMessageIds(
        q,
        appId,
        rows.map((r) => r.id),
      )
    : new Set<string>();
  const fresh = rows.filter((r) => !stored.has(r.id));
  const freshIds = new Set(fresh.map((r) => r.id));
  const freshReactions = reactionRows.filter((r) => freshIds.has(r.messageId));
  const freshFiles = fileRows.filter((f) => f.messageId && freshIds.has(f.messageId));
  stats.existing = rows.length - fresh.length;
  stats.imported = fresh.length;
  stats.replies = fresh.filter((r) => r.parentId).length;
  stats.system = fresh.filter((r) => r.type === 'system').length;
  stats.pins = fresh.filter((r) => r.pinnedAt).length;
  const freshSaved = savedRows.filter((x) => freshIds.has(x.messageId));
  stats.saved = freshSaved.length;
  stats.reactions = freshReactions.length;
  stats.filesAttached = freshFiles.length;
  // Posts older than the channel's newest: the history is renumbered in time order, as the Slack
  // import does, while the channel holds nothing but imported posts; otherwise refused.
  const reorder = existed && fresh.length > 0 && (await fallsInGap(q, appId, cid, fresh[0] as MessageRow));
  if (reorder) {
    const live = await liveSinceImport(q, appId, cid, new Set(rows.map((r) => r.id)));
    if (live) {
      stats.problem =
        `${fresh.length} post(s) of ${c.label} fall before messages already in ${cid}, which has had activity ` +
        `since it was imported (${live}); they cannot be put in time order without changing seqs clients hold`;
      return stats;
    }
    stats.reordered = cid;
  }
  if (env.dryRun) return stats;
  // The bytes first, under keys derived from the export: a failed transaction leaves them to be
  // written over by the re-run that completes it.
  // Images get their thumbnails and blurhash here, as the media job makes an upload's (no job
  // queue runs beside an import); the messages then show the files as they will stay.
  for (const f of freshFiles) {
    const bytes = await (fileBytes.get(f.id) as ExportBlob).read();
    await env.store?.putBytes(f.storageKey, bytes, { contentType: f.mimeType });
    if (env.store && f.kind === 'image' && THUMBNAILED.has(f.mimeType)) await addThumbnails(env.store, f, bytes);
  }
  if (freshFiles.length > 0) {
    const byId = new Map(freshFiles.map((f) => [f.id, f]));
    for (const r of fresh)
      if (r.attachments.length > 0) {
        r.attachments = r.attachments.map((a) => {
          const f = byId.get(a.id);
          return f ? presentAttachment(f) : a;
        });
      }
  }

  const lastAt = rows.filter((r) => !r.parentId).at(-1)?.createdAt ?? null;
  if (!existed) {
    await q.insert(schema.channels).values({
      appId,
      cid,
      type: isDm ? 'dm' : c.kind === 'private' ? 'group' : 'public',
      id,
      name: isDm ? null : (c.displayName ?? c.label),
      description: c.purpose,
      topic: c.header,
      createdBy: null,
      archivedAt: c.archived ? (rows.at(-1)?.createdAt ?? createdAt) : null,
      lastMessageAt: lastAt,
      memberCount: c.members.length,
      createdAt,
      updatedAt: createdAt,
    });
    if (c.members.length > 0)
      await q
        .insert(schema.members)
        .values(c.members.map((m) => ({ appId, cid, userId: m.userId, role: m.role, joinedAt: createdAt })));
  }
  if (fresh.length === 0) return stats;
  await writeFreshMessages(q, appId, cid, {
    fresh,
    lastAt,
    stored,
    files: freshFiles,
    reactions: freshReactions,
    mentions: flagRows,
    participants: (p, replies) =>
      replies.reduce((list, r) => withParticipant(list, p.userId, r.userId), p.threadParticipants),
  });
  const freshById = new Map(fresh.map((r) => [r.id, r]));
  // Flagged posts are saved for the people who flagged them, ordered (by id) as the posts.
  const saved = freshSaved.map((x) => {
    const r = freshById.get(x.messageId) as MessageRow;
    return {
      appId,
      id: mattermostMessageId(appId, `${cid}/saved/${x.userId}`, r.createdAt.getTime(), x.userId),
      userId: x.userId,
      messageId: x.messageId,
      cid,
      createdAt: r.createdAt,
    };
  });
  await insertNew(q, schema.savedItems, saved, 1000);
  if (reorder) await renumberChannel(q, appId, cid);
  return stats;
}

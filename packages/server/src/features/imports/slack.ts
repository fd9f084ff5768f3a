/**
 * Import a Slack workspace export (`users.json`, `channels.json`, one folder of `YYYY-MM-DD.json`
 * days per public channel) into a workspace's app: `parley import slack` (packages/cli).
 *
 * The whole export is checked first (slack-export.ts): any problem refuses it before a write.
 * Then it writes rows as the actions would have, without a server, ALL in one transaction: each
 * channel takes its seqs with `takeSeqs` and appends one `message.new` per message to the event
 * log, so resync and history work on imported channels as on live ones. A message's event
 * carries its final state (reactions, pin, edit, reply count), so replaying the log gives what a
 * fresh read gives. Members' `last_read_seq` is moved to the end: imported history is read.
 * Search needs nothing: the messages' trigger indexes them as they are inserted.
 *
 * Idempotent by construction: user ids (`slack-U…`), channel ids and message ids (a UUIDv7 from
 * the message's time and a hash of app, channel and `ts`) are derived from the export, and rows
 * already there are skipped — a re-run imports nothing twice. A later export's messages older
 * than a channel's newest are put in time order by renumbering it (`renumberChannel`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { USERNAME_PATTERN } from '@parley/protocol';
import { and, asc, desc, eq, ne, sql } from 'drizzle-orm';
import { type Database, type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { logEvents } from '../../platform/event-log.js';
import type { BlobStore } from '../../platform/storage/index.js';
import { dmId } from '../channels/index.js';
import { type FileRow, presentAttachment, SNIFF_BYTES, sanitizeName, sniff } from '../files/index.js';
import { type MessageRow, presentMessage } from '../messages/index.js';
import { ExportRefusedError, ImportInputError } from './errors.js';
import { type PersonPicture, pictureRefusal, prepareEmoji, storePictures, writeEmoji } from './media.js';
import { usernamePicker, workspaceMembersByEmail } from './people.js';
import { readSlackExport, type SlackConversation, type SlackMessage } from './slack-export.js';
import { convertSlackText } from './slack-text.js';
import { importedFileRow, insertNew, storedMessageIds, writeFreshMessages } from './write.js';
import { archiveFromEntries, type ExportArchive, type ExportBlob } from './zip.js';

export { ImportInputError };

// ---- the report ---------------------------------------------------------------------------

/** Why something of the export was not imported. */
export type SkipReason =
  | 'join/leave message'
  | 'unsupported subtype'
  | 'unknown user'
  | 'file not in export'
  | 'file bytes not imported'
  | 'file too large'
  | 'thread parent not in export'
  | 'invalid reaction name'
  | 'too many reaction types'
  | 'empty message'
  /** A DM or group DM with fewer than two people of the export (a DM with oneself): not imported. */
  | 'conversation with fewer than two people'
  | 'profile picture not imported'
  | 'custom emoji not imported';

export interface ImportSkip {
  reason: SkipReason;
  channel: string;
  ts?: string;
  detail?: string;
}

export interface ImportReport {
  dry_run: boolean;
  users: {
    matched: number;
    created: number;
    existing: number;
    deactivated: string[];
    bots: number;
    /**
     * Users created whose Slack name could not be their username, and what they got instead: a
     * name another user or a user group of the workspace holds (any case), or a reserved word,
     * gets the first free `<name>-2`, `<name>-3`…; a name that is no valid username gets none.
     */
    renamed: ImportRename[];
    /** Profile pictures imported (`__avatars/<user id>/`), for the people created. */
    pictures: number;
  };
  /** Custom emoji (`emojis/`): added, or of a name the workspace has already (left as they are). */
  emoji: { imported: number; existing: number };
  /**
   * Conversations, new and already there; of them, how many are private channels (`group:`),
   * group DMs and DMs (`dm:`).
   */
  channels: {
    imported: number;
    existing: number;
    archived: number;
    private: number;
    group_dms: number;
    dms: number;
  };
  messages: { imported: number; existing: number; replies: number; system: number };
  reactions: number;
  pins: number;
  files: { attached: number; skipped: number };
  skipped: { total: number; by_reason: Partial<Record<SkipReason, number>>; items: ImportSkip[] };
  /**
   * Channels whose history this import renumbered to put messages from a gap in the past in time
   * order (docs/cli.md): clients reload them (the data epoch changed).
   */
  reordered: string[];
}

/** A Slack user whose username here is not their Slack name (ImportReport.users.renamed). */
export interface ImportRename {
  slack_id: string;
  /** Their Slack name. */
  wanted: string;
  /** Their username here; null: none. */
  username: string | null;
  reason: 'taken' | 'reserved' | 'invalid';
  /** For `taken`: what holds the name, in the workspace or earlier in this import. */
  held_by?: 'user' | 'group';
}

export interface ImportOptions {
  dryRun?: boolean;
  /** After each channel (and once before the first, with done 0). */
  onProgress?: (done: number, total: number, channel: string | null) => void;
  now?: () => Date;
  /**
   * Where files whose bytes the export holds (`__uploads/<file id>/<name>`) are stored; without
   * one they are skipped as `file bytes not imported`.
   */
  store?: BlobStore;
  /** Largest file attached, in bytes (the server's upload limit). */
  maxFileBytes?: number;
  /** `PARLEY_PUBLIC_URL`: avatars are served under it; without it the export's pictures are skipped. */
  publicUrl?: string;
}

// ---- ids ------------------------------------------------------------------------------------

const USERNAME = new RegExp(USERNAME_PATTERN);
const REACTION = /^[A-Za-z0-9_+\-:]{1,32}$/;
const MAX_REACTION_TYPES = 25;
const LATEST_REACTIONS = 10;

/** Slack's `1700000000.000200` as milliseconds. */
const tsMs = (ts: string) => Math.floor(Number(ts) * 1000);

/** A UUIDv7 whose time is the message's and whose other bits are a hash of what names it. */
export function slackMessageId(appId: string, cid: string, ts: string): string {
  const h = createHash('sha256').update(`${appId}\n${cid}\n${ts}`).digest();
  const b = Buffer.alloc(16);
  b.writeUIntBE(Math.max(0, tsMs(ts)), 0, 6);
  h.copy(b, 6, 0, 10);
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** `📎 report.pdf (application/pdf, 1.2 MB) — not in the export`: a file the message had. */
function filePlaceholder(
  f: { name?: string; title?: string; id?: string; mimetype?: string; size?: number },
  why: SkipReason,
) {
  const name = (f.name ?? f.title ?? f.id ?? 'file').replace(/[\n\r]+/g, ' ');
  const size =
    f.size === undefined
      ? null
      : f.size < 1000
        ? `${f.size} B`
        : f.size < 1e6
          ? `${(f.size / 1e3).toFixed(1)} KB`
          : `${(f.size / 1e6).toFixed(1)} MB`;
  const about = [f.mimetype, size].filter(Boolean).join(', ');
  const reason =
    why === 'file too large'
      ? 'too large to import'
      : why === 'file bytes not imported'
        ? 'not imported'
        : 'not in the export';
  return `📎 ${name}${about ? ` (${about})` : ''} — ${reason}`;
}

/**
 * A Slack status that does not expire (one that does would need the job that clears it: it is
 * left out), as the status columns; control characters dropped, cut to the API's lengths.
 */
function statusOf(p: { status_text?: string; status_emoji?: string; status_expiration?: number } | undefined) {
  const clean = (t: string | undefined, max: number) =>
    t
      ?.replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
      .trim()
      .slice(0, max) || null;
  const text = clean(p?.status_text, 200);
  if (!text || (p?.status_expiration ?? 0) !== 0) return {};
  return { statusText: text, statusEmoji: clean(p?.status_emoji, 64) };
}

/** A Slack `tz` as a zone this runtime knows, else null (a user's time zone is optional). */
function knownTimeZone(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    return null;
  }
}

const userIdOf = (slackId: string) => `slack-${slackId}`.slice(0, 64);
const botIdOf = (botId: string) => `slack-bot-${botId}`.slice(0, 64);
const channelSlug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'channel';

// ---- reading the export ---------------------------------------------------------------------

// ---- the import ---------------------------------------------------------------------------

interface Person {
  userId: string;
  /** How a mention of them is written: their username, else their name. */
  handle: string;
  /** Their display name, for system notes. */
  name: string;
}

/**
 * Import a Slack export into the workspace `appId`: an archive read by `openExportZip` (or its
 * entries, path → bytes). The whole export is checked first: any problem refuses it with
 * `ExportRefusedError` (every problem, file and reason) before anything is written; then every
 * write is ONE transaction, so a failure part-way leaves nothing (all or nothing).
 */
export async function importSlackExport(
  database: Database,
  appId: string,
  input: ExportArchive | ReadonlyMap<string, Uint8Array>,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const db = database.db;
  const dryRun = !!opts.dryRun;
  const now = opts.now ?? (() => new Date());
  const archive = 'blobs' in input && 'problems' in input ? input : archiveFromEntries(input);
  const exp = readSlackExport(archive);
  if (exp.problems.length > 0) throw new ExportRefusedError(exp.problems);
  const slackUsers = exp.users;

  const [ws] = await db
    .select({ appId: schema.workspaces.appId })
    .from(schema.workspaces)
    .where(eq(schema.workspaces.appId, appId));
  if (!ws) throw new ImportInputError(`no workspace with id ${appId}`);

  const report: ImportReport = {
    dry_run: dryRun,
    users: { matched: 0, created: 0, existing: 0, deactivated: [], bots: 0, renamed: [], pictures: 0 },
    emoji: { imported: 0, existing: 0 },
    channels: { imported: 0, existing: 0, archived: 0, private: 0, group_dms: 0, dms: 0 },
    messages: { imported: 0, existing: 0, replies: 0, system: 0 },
    reactions: 0,
    pins: 0,
    files: { attached: 0, skipped: 0 },
    skipped: { total: 0, by_reason: {}, items: [] },
    reordered: [],
  };
  const skip = (s: ImportSkip) => {
    report.skipped.total++;
    report.skipped.by_reason[s.reason] = (report.skipped.by_reason[s.reason] ?? 0) + 1;
    report.skipped.items.push(s);
  };
  const pictureSkipped = (handle: string, why: string) =>
    skip({ channel: '', reason: 'profile picture not imported', detail: `${handle} (${why})` });
  const pictures: PersonPicture[] = [];

  // ---- users: matched by email to the workspace's members, created otherwise ----
  const { byEmail, users: matchedUsers } = await workspaceMembersByEmail(db, appId);
  const people = new Map<string, Person>();
  const toCreate: (typeof schema.users.$inferInsert)[] = [];
  // People an account with the same email, verified, may take over when it joins (accounts/claims.ts).
  const claims: (typeof schema.importClaims.$inferInsert)[] = [];
  // Usernames follow the one-name rule of the workspace: a Slack name that clashes gets the
  // first free suffix, and the report says so.
  const chooseUsername = await usernamePicker(
    db,
    appId,
    slackUsers.map((u) => u?.name).filter((n): n is string => typeof n === 'string'),
  );
  const existingUserIds = new Set(
    (
      await db
        .select({ id: schema.users.id })
        .from(schema.users)
        .where(and(eq(schema.users.appId, appId), sql`${schema.users.id} like 'slack-%'`))
    ).map((r) => r.id),
  );
  const deactivated = new Set<string>(); // user ids of people deleted in Slack
  const botUsers = new Map<string, string>(); // Slack bot id → the bot user's id here
  for (const u of slackUsers) {
    if (!u || typeof u.id !== 'string') continue;
    const name =
      u.profile?.real_name?.trim() || u.real_name?.trim() || u.profile?.display_name?.trim() || u.name || u.id;
    const email = u.profile?.email?.toLowerCase();
    const matched = email ? byEmail.get(email) : undefined;
    if (matched) {
      report.users.matched++;
      const m = matchedUsers.get(matched);
      people.set(u.id, { userId: matched, handle: m?.username ?? m?.name ?? name, name: m?.name ?? name });
      continue;
    }
    const userId = userIdOf(u.id);
    let username: string | null = null;
    // Deleted in Slack: kept as the author of their messages, but no @name (not mentionable)
    // and no memberships (importChannel leaves them out).
    if (u.deleted) deactivated.add(userId);
    else if (u.name && USERNAME.test(u.name)) {
      const chosen = await chooseUsername(u.name, userId);
      username = chosen.username;
      if (chosen.why && !existingUserIds.has(userId))
        report.users.renamed.push({ slack_id: u.id, wanted: u.name, username, ...chosen.why });
    } else if (u.name && !u.deleted && !existingUserIds.has(userId))
      report.users.renamed.push({ slack_id: u.id, wanted: u.name, username: null, reason: 'invalid' });
    people.set(u.id, { userId, handle: username ?? name, name });
    if (u.deleted) report.users.deactivated.push(`${name} (${u.id})`);
    else if (email && !u.is_bot) claims.push({ appId, email, userId, source: 'slack' });
    if (existingUserIds.has(userId)) report.users.existing++;
    else {
      report.users.created++;
      const row: typeof schema.users.$inferInsert = {
        appId,
        id: userId,
        name,
        username,
        title: u.profile?.title?.trim() || null,
        timeZone: u.tz ? knownTimeZone(u.tz) : null,
        ...statusOf(u.profile),
      };
      toCreate.push(row);
      // The picture is read and rendered when written (not held for everyone at once).
      const file = exp.avatars.get(u.id);
      if (file || (exp.withAvatars && u.profile?.image_original)) {
        const blob = file ? archive.blobs.get(file) : undefined;
        const why = pictureRefusal(blob, opts);
        if (why || !blob) pictureSkipped(`${name} (${u.id})`, why ?? '');
        else pictures.push({ row, handle: `${name} (${u.id})`, blob });
      }
    }
    // A bot user's `bot_message`s are theirs: one identity, not a second `slack-bot-…` user.
    if (u.is_bot && u.profile?.bot_id) botUsers.set(u.profile.bot_id, userId);
  }

  // Bots that post without a user (`bot_message`): one user per bot id.
  const bots = new Map<string, string>(); // bot id → name
  const channelsByName = new Map(exp.conversations.map((c) => [c.name, c]));
  const days = exp.days; // channel name → its messages, in time order
  for (const all of days.values())
    for (const m of all) {
      if (m.subtype === 'bot_message' && !m.user && m.bot_id && !bots.has(m.bot_id) && !botUsers.has(m.bot_id))
        bots.set(m.bot_id, m.bot_profile?.name || m.username || 'bot');
    }
  for (const [botId, name] of bots) {
    const userId = botIdOf(botId);
    report.users.bots++;
    if (!existingUserIds.has(userId)) toCreate.push({ appId, id: userId, name, username: null, role: 'user' });
  }

  const channelName = (slackId: string) => {
    for (const c of channelsByName.values())
      if (c.id === slackId && (c.kind === 'public' || c.kind === 'private')) return c.name;
    return null;
  };
  const ctx = {
    user: (id: string) => people.get(id) ?? null,
    channel: channelName,
  };

  const { emoji, existing: emojiExisting } = await prepareEmoji(
    db,
    appId,
    exp.emoji.map((e) => ({ ...e, blob: archive.blobs.get(e.file) })),
    !!opts.store,
    (name, why) => skip({ channel: '', reason: 'custom emoji not imported', detail: `:${name}: ${why}` }),
  );
  report.emoji = { imported: emoji.length, existing: emojiExisting };

  // ---- the writes: users, then every channel, in ONE transaction ----
  const list = [...channelsByName.values()];
  const write = async (q: Tx | Database['db']) => {
    const imageRows = dryRun ? [] : await storePictures(appId, pictures, opts, pictureSkipped);
    report.users.pictures = dryRun ? pictures.length : imageRows.length;
    if (!dryRun) await insertNew(q, schema.users, toCreate);
    if (!dryRun) await insertNew(q, schema.images, imageRows);
    if (!dryRun) await writeEmoji(q, appId, emoji, opts.store);
    if (!dryRun) await insertNew(q, schema.importClaims, claims);
    opts.onProgress?.(0, list.length, null);
    const problems: { file: string; reason: string }[] = [];
    let done = 0;
    for (const c of list) {
      const stats = await importChannel(q, appId, c, days.get(c.name) ?? [], {
        ctx,
        people,
        deactivated,
        botUsers,
        blobs: archive.blobs,
        dryRun,
        now,
        skip,
        store: opts.store,
        maxFileBytes: opts.maxFileBytes ?? Number.POSITIVE_INFINITY,
      });
      if (stats.problem) problems.push({ file: `${c.name}/`, reason: stats.problem });
      if (stats.reordered) report.reordered.push(stats.reordered);
      if (stats.skipped) {
        opts.onProgress?.(++done, list.length, c.name);
        continue;
      }
      report.channels[stats.existed ? 'existing' : 'imported']++;
      if (c.kind !== 'public') report.channels[KIND_COUNT[c.kind]]++;
      if (c.is_archived) report.channels.archived++;
      report.messages.imported += stats.imported;
      report.messages.existing += stats.existing;
      report.messages.replies += stats.replies;
      report.messages.system += stats.system;
      report.reactions += stats.reactions;
      report.pins += stats.pins;
      report.files.skipped += stats.filesSkipped;
      report.files.attached += stats.filesAttached;
      opts.onProgress?.(++done, list.length, c.name);
    }
    // Thrown inside the transaction: it rolls back, nothing of the export is kept.
    if (problems.length > 0) throw new ExportRefusedError(problems);
    // Renumbered history: every client drops what it kept and reloads (as after a restore).
    if (report.reordered.length > 0 && !dryRun)
      await q
        .insert(schema.serverState)
        .values({ name: 'data_epoch', value: randomUUID() })
        .onConflictDoUpdate({ target: schema.serverState.name, set: { value: randomUUID(), updatedAt: sql`now()` } });
  };
  if (dryRun) await write(db);
  else await db.transaction(async (tx) => write(tx));
  return report;
}

interface ChannelStats {
  existed: boolean;
  /** Why the channel cannot be imported (the whole import is then refused). */
  problem?: string;
  /** Its cid, when its history was renumbered to put a gap in the past in time order. */
  reordered?: string;
  /** Not imported at all (reported as a skip). */
  skipped?: boolean;
  imported: number;
  existing: number;
  replies: number;
  system: number;
  reactions: number;
  pins: number;
  filesSkipped: number;
  filesAttached: number;
}

const KIND_COUNT = { private: 'private', mpim: 'group_dms', dm: 'dms' } as const;

/**
 * The cid of a Slack conversation. A channel: `public:<name>` (a private one `group:<name>`), or
 * `…:<name>-<slack id>` when another channel has that. A DM or group DM: `dm:<id of its member
 * set>`, the DM those people get here too (`dmId`), existing or not.
 */
async function chooseCid(q: Queryable, appId: string, c: SlackConversation, createdAt: Date, memberIds: string[]) {
  if (c.kind === 'dm' || c.kind === 'mpim') {
    const id = dmId(memberIds);
    const cid = `dm:${id}`;
    const [row] = await q
      .select({ cid: schema.channels.cid })
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
    return { cid, id, existed: !!row };
  }
  const type = c.kind === 'private' ? 'group' : 'public';
  const slug = channelSlug(c.name);
  for (const id of [slug, `${slug}-${c.id.toLowerCase()}`.slice(0, 64)]) {
    const cid = `${type}:${id}`;
    const [row] = await q
      .select({ createdAt: schema.channels.createdAt, createdBy: schema.channels.createdBy })
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
    // A channel this import made has the Slack channel's creation time to the second.
    if (!row) return { cid, id, existed: false };
    if (row.createdAt.getTime() === createdAt.getTime()) return { cid, id, existed: true };
  }
  throw new ImportInputError(`channels ${type}:${slug} and ${type}:${slug}-${c.id.toLowerCase()} are both taken`);
}

const NOISE = new Set(['channel_join', 'channel_leave', 'group_join', 'group_leave']);
const SUPPORTED = new Set([
  undefined,
  'bot_message',
  'me_message',
  'thread_broadcast',
  'file_share',
  'channel_name',
  'channel_topic',
  'channel_purpose',
]);

async function importChannel(
  q: Tx | Database['db'],
  appId: string,
  c: SlackConversation,
  messages: SlackMessage[],
  env: {
    ctx: Parameters<typeof convertSlackText>[1];
    people: Map<string, Person>;
    deactivated: ReadonlySet<string>;
    botUsers: ReadonlyMap<string, string>;
    blobs: ReadonlyMap<string, ExportBlob>;
    dryRun: boolean;
    now: () => Date;
    skip: (s: ImportSkip) => void;
    store: BlobStore | undefined;
    maxFileBytes: number;
  },
): Promise<ChannelStats> {
  const stats: ChannelStats = {
    existed: false,
    imported: 0,
    existing: 0,
    replies: 0,
    system: 0,
    reactions: 0,
    pins: 0,
    filesSkipped: 0,
    filesAttached: 0,
  };
  const createdAt = new Date((c.created ?? Number(messages[0]?.ts ?? 0)) * 1000);
  const isDm = c.kind === 'dm' || c.kind === 'mpim';
  const run = async (tx: Tx | Database['db']) => {
    const memberIds = [
      ...new Set(
        (c.members ?? [])
          .map((u) => env.people.get(u)?.userId)
          // People deleted in Slack are no channel's members; a DM stays theirs (its member set is its identity).
          .filter((u): u is string => !!u && (isDm || !env.deactivated.has(u))),
      ),
    ];
    if (isDm && memberIds.length < 2) {
      env.skip({
        channel: c.name,
        reason: 'conversation with fewer than two people',
        detail: `${messages.length} message(s)`,
      });
      stats.skipped = true;
      return;
    }
    const { cid, id, existed } = await chooseCid(tx, appId, c, createdAt, memberIds);
    stats.existed = existed;
    const author = (m: SlackMessage): string | null => {
      if (m.user) return env.people.get(m.user)?.userId ?? null;
      if (m.subtype === 'bot_message' && m.bot_id) return env.botUsers.get(m.bot_id) ?? botIdOf(m.bot_id);
      return null;
    };
    // A DM has no owner (as one made here: features/channels createChannel).
    const creator = !isDm && c.creator ? (env.people.get(c.creator)?.userId ?? null) : null;

    // Build the rows in time order; replies need their parent imported (now or before).
    const rows: MessageRow[] = [];
    const reactionRows: (typeof schema.reactions.$inferInsert)[] = [];
    const flagRows: { userId: string; messageId: string }[] = [];
    const byTs = new Map<string, MessageRow>();
    const fileRows: FileRow[] = [];
    const fileBytes = new Map<string, ExportBlob>();
    for (const m of messages) {
      const ts = m.ts as string;
      const where = { channel: c.name, ts };
      if (NOISE.has(m.subtype ?? '')) {
        env.skip({ ...where, reason: 'join/leave message', detail: m.subtype });
        continue;
      }
      if (!SUPPORTED.has(m.subtype)) {
        env.skip({ ...where, reason: 'unsupported subtype', detail: m.subtype });
        continue;
      }
      const userId = author(m);
      if (!userId) {
        env.skip({ ...where, reason: 'unknown user', detail: m.user ?? m.bot_id ?? '(none)' });
        continue;
      }
      const at = new Date(tsMs(ts));
      const who = m.user ? (env.people.get(m.user)?.name ?? userId) : userId;
      let type = 'regular';
      let converted = convertSlackText(m.text ?? '', env.ctx);
      if (m.subtype === 'channel_name' || m.subtype === 'channel_topic' || m.subtype === 'channel_purpose') {
        type = 'system';
        const text =
          m.subtype === 'channel_name'
            ? `${who} renamed the channel from #${m.old_name ?? '?'} to #${m.name ?? '?'}`
            : m.subtype === 'channel_topic'
              ? `${who} set the channel topic: ${convertSlackText(m.topic ?? '', env.ctx).text}`
              : `${who} set the channel description: ${convertSlackText(m.purpose ?? '', env.ctx).text}`;
        converted = { text, mentionedUsers: [], here: false, channel: false };
      } else if (m.subtype === 'me_message') converted = { ...converted, text: `_${converted.text}_` };

      const msgId = slackMessageId(appId, cid, ts);
      const attachments: FileRow[] = [];
      const placeholders: string[] = [];
      for (const f of m.files ?? []) {
        const blob = f.id && f.name ? env.blobs.get(`__uploads/${f.id}/${f.name}`) : undefined;
        const detail = f.name ?? f.title ?? f.id;
        const reason: SkipReason | null = !blob
          ? 'file not in export'
          : !env.store
            ? 'file bytes not imported'
            : blob.size > env.maxFileBytes
              ? 'file too large'
              : null;
        if (reason || !blob || !f.name) {
          env.skip({ ...where, reason: reason ?? 'file not in export', detail });
          stats.filesSkipped++;
          // The message keeps a clear trace of the file: its name, type and size, and why not here.
          placeholders.push(filePlaceholder(f, reason ?? 'file not in export'));
          continue;
        }
        // Read (inflated through the zip's limits) for its type and hash, then let go: the bytes
        // are read again when stored, so a channel's files are never all in memory.
        const buf = await blob.read();
        const name = sanitizeName(f.name);
        const sniffed = await sniff(buf.subarray(0, SNIFF_BYTES), name, f.mimetype);
        const fileId = slackMessageId(appId, `${cid}/file/${f.id}`, ts);
        attachments.push(
          importedFileRow({
            appId,
            id: fileId,
            cid,
            userId,
            messageId: msgId,
            name,
            bytes: buf,
            sniffed,
            declaredType: f.mimetype?.slice(0, 200) ?? null,
            typeMismatch: sniffed.mismatch,
            at,
          }),
        );
        fileBytes.set(fileId, blob);
      }
      if (placeholders.length > 0)
        converted = { ...converted, text: [converted.text, ...placeholders].filter((t) => t.trim()).join('\n') };
      if (!converted.text.trim() && attachments.length === 0) {
        env.skip({ ...where, reason: 'empty message' });
        continue;
      }
      let parentId: string | null = null;
      if (m.thread_ts && m.thread_ts !== ts) {
        const parent = byTs.get(m.thread_ts);
        if (!parent) {
          env.skip({ ...where, reason: 'thread parent not in export', detail: m.thread_ts });
          continue;
        }
        parentId = parent.id;
        parent.replyCount++;
        parent.lastReplyAt = at;
        if (!parent.threadParticipants.includes(userId)) parent.threadParticipants.push(userId);
      }
      const editedAt = m.edited?.ts ? new Date(tsMs(m.edited.ts)) : null;
      const counts: Record<string, number> = {};
      const latest: { type: string; user_id: string; created_at: string }[] = [];
      for (const r of m.reactions ?? []) {
        if (!r.name || !REACTION.test(r.name)) {
          env.skip({ ...where, reason: 'invalid reaction name', detail: r.name });
          continue;
        }
        if (!(r.name in counts) && Object.keys(counts).length >= MAX_REACTION_TYPES) {
          env.skip({ ...where, reason: 'too many reaction types', detail: r.name });
          continue;
        }
        for (const u of r.users ?? []) {
          const reactor = env.people.get(u)?.userId;
          if (!reactor) {
            env.skip({ ...where, reason: 'unknown user', detail: `reaction ${r.name} by ${u}` });
            continue;
          }
          if (reactionRows.some((x) => x.messageId === msgId && x.userId === reactor && x.type === r.name)) continue;
          counts[r.name] = (counts[r.name] ?? 0) + 1;
          reactionRows.push({ appId, messageId: msgId, userId: reactor, type: r.name, createdAt: at });
          if (latest.length < LATEST_REACTIONS)
            latest.push({ type: r.name, user_id: reactor, created_at: at.toISOString() });
        }
      }
      const pinned = (m.pinned_to ?? []).includes(c.id);
      const row: MessageRow = {
        appId,
        id: msgId,
        cid,
        seq: 0,
        userId,
        type,
        text: converted.text,
        parentId,
        showInChannel: m.subtype === 'thread_broadcast',
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
        pinnedAt: pinned ? at : null,
        pinnedBy: pinned ? userId : null,
        editedAt,
        createdAt: at,
        updatedAt: editedAt && editedAt > at ? editedAt : at,
        deletedAt: null,
      };
      byTs.set(ts, row);
      rows.push(row);
      fileRows.push(...attachments);
      for (const u of converted.mentionedUsers) if (u !== userId) flagRows.push({ userId: u, messageId: msgId });
    }

    // What an earlier run stored is left as it is.
    const stored = existed
      ? await storedMessageIds(
          tx,
          appId,
          rows.map((r) => r.id),
        )
      : new Set<string>();
    const fresh = rows.filter((r) => !stored.has(r.id));
    stats.existing = rows.length - fresh.length;
    stats.imported = fresh.length;
    stats.replies = fresh.filter((r) => r.parentId).length;
    stats.system = fresh.filter((r) => r.type === 'system').length;
    stats.pins = fresh.filter((r) => r.pinnedAt).length;
    const freshIds = new Set(fresh.map((r) => r.id));
    const freshReactions = reactionRows.filter((r) => freshIds.has(r.messageId));
    stats.reactions = freshReactions.length;
    const freshFiles = fileRows.filter((f) => f.messageId && freshIds.has(f.messageId));
    stats.filesAttached = freshFiles.length;
    // A later export may fill a gap in the past (a day an earlier export lacked). Appended, those
    // messages would come after later ones; instead the channel's history is renumbered in time
    // order — only while its log holds nothing but imported messages of this export (no live
    // traffic since: no seq a client holds means anything else), and the data epoch changes so
    // clients drop what they kept and reload (docs/cli.md). Otherwise the import is refused.
    const reorder = existed && fresh.length > 0 && (await fallsInGap(tx, appId, cid, fresh[0] as MessageRow));
    if (reorder) {
      const live = await liveSinceImport(tx, appId, cid, new Set(rows.map((r) => r.id)));
      if (live) {
        stats.problem =
          `${fresh.length} message(s) of the export fall before messages already in public:${id}, which has had ` +
          `activity since it was imported (${live}); they cannot be put in time order without changing seqs clients hold`;
        return;
      }
      stats.reordered = cid;
    }
    if (env.dryRun) return;
    // The bytes first, under keys derived from the export: a failed transaction leaves them to
    // be written over by the re-run that completes it.
    for (const f of freshFiles)
      await env.store?.putBytes(f.storageKey, await (fileBytes.get(f.id) as ExportBlob).read(), {
        contentType: f.mimeType,
      });

    const lastAt = rows.filter((r) => !r.parentId || r.showInChannel).at(-1)?.createdAt ?? null;
    if (!existed) {
      const archivedAt = c.is_archived ? (rows.at(-1)?.createdAt ?? env.now()) : null;
      await tx.insert(schema.channels).values({
        appId,
        cid,
        type: isDm ? 'dm' : c.kind === 'private' ? 'group' : 'public',
        id,
        name: isDm ? null : c.name,
        description: c.purpose?.value || null,
        topic: c.topic?.value || null,
        createdBy: creator,
        archivedAt,
        lastMessageAt: lastAt,
        memberCount: memberIds.length,
        createdAt,
        updatedAt: createdAt,
      });
      if (memberIds.length > 0)
        await tx.insert(schema.members).values(
          memberIds.map((userId) => ({
            appId,
            cid,
            userId,
            role: userId === creator ? 'owner' : 'member',
            joinedAt: createdAt,
          })),
        );
    }
    if (fresh.length > 0) {
      await writeFreshMessages(tx, appId, cid, {
        fresh,
        lastAt,
        stored,
        files: freshFiles,
        reactions: freshReactions,
        mentions: flagRows,
        participants: (p, replies) => [...new Set([...p.threadParticipants, ...replies.map((r) => r.userId)])],
      });
      if (reorder) await renumberChannel(tx, appId, cid);
    }
  };
  await run(q);
  return stats;
}

/** Whether `first` (the oldest new message) is older than the newest message stored in `cid`. */
export async function fallsInGap(q: Queryable, appId: string, cid: string, first: MessageRow): Promise<boolean> {
  const [newest] = await q
    .select({ createdAt: schema.messages.createdAt })
    .from(schema.messages)
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.cid, cid)))
    .orderBy(desc(schema.messages.createdAt))
    .limit(1);
  return !!newest && first.createdAt < newest.createdAt;
}

/**
 * What happened in `cid` since it was imported, or null: an event other than `message.new`
 * (an edit, a reaction, a member change…) or a message the export does not hold (sent here).
 */
export async function liveSinceImport(
  q: Queryable,
  appId: string,
  cid: string,
  exported: ReadonlySet<string>,
): Promise<string | null> {
  const [other] = await q
    .select({ type: schema.channelEvents.type, seq: schema.channelEvents.seq })
    .from(schema.channelEvents)
    .where(
      and(
        eq(schema.channelEvents.appId, appId),
        eq(schema.channelEvents.cid, cid),
        ne(schema.channelEvents.type, 'message.new'),
      ),
    )
    .limit(1);
  if (other) return `a ${other.type} event at seq ${other.seq}`;
  const ids = await q
    .select({ id: schema.messages.id, seq: schema.messages.seq })
    .from(schema.messages)
    .where(and(eq(schema.messages.appId, appId), eq(schema.messages.cid, cid)));
  const sent = ids.find((r) => !exported.has(r.id));
  return sent ? `a message at seq ${sent.seq} that the export does not hold` : null;
}

/**
 * Give the messages of `cid` seqs 1…N in time order (replies by their own time, as sends
 * interleave them), move their mention flags along, and rewrite the channel's event log as one
 * `message.new` a message in that order, each with the message's final state. The channel's
 * `last_seq` and its members' `last_read_seq` stay N: the log held exactly one event a message.
 */
export async function renumberChannel(q: Queryable, appId: string, cid: string): Promise<void> {
  const inChannel = and(eq(schema.messages.appId, appId), eq(schema.messages.cid, cid));
  const all = await q
    .select()
    .from(schema.messages)
    .where(inChannel)
    .orderBy(asc(schema.messages.createdAt), asc(schema.messages.seq));
  // Negative first: the (app, cid, seq) unique index holds after each statement.
  await q
    .update(schema.messages)
    .set({ seq: sql`-${schema.messages.seq}` })
    .where(inChannel);
  for (let i = 0; i < all.length; i += 1000) {
    const part = all.slice(i, i + 1000);
    part.forEach((m, j) => {
      m.seq = i + j + 1;
    });
    const values = sql.join(
      part.map((m) => sql`(${m.id}::uuid, ${m.seq}::bigint)`),
      sql`, `,
    );
    await q.execute(
      sql`update messages m set seq = v.seq from (values ${values}) as v(id, seq)
          where m.app_id = ${appId} and m.cid = ${cid} and m.id = v.id`,
    );
  }
  await q.execute(
    sql`update user_message_flags f set seq = m.seq from messages m
        where f.app_id = ${appId} and f.cid = ${cid} and m.app_id = f.app_id and m.id = f.message_id`,
  );
  await q
    .delete(schema.channelEvents)
    .where(and(eq(schema.channelEvents.appId, appId), eq(schema.channelEvents.cid, cid)));
  for (let i = 0; i < all.length; i += 500)
    await logEvents(
      q,
      [],
      appId,
      all.slice(i, i + 500).map((m) => ({
        type: 'message.new',
        cid,
        seq: m.seq,
        created_at: m.createdAt.toISOString(),
        message: presentMessage(m),
      })),
    );
}

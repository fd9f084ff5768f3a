/**
 * Import a Slack workspace export (`users.json`, `channels.json`, one folder of `YYYY-MM-DD.json`
 * days per public channel) into a workspace's app: `parley import slack` (packages/cli).
 *
 * It writes rows as the actions would have, without a server: each channel in ONE transaction
 * that takes the channel's seqs with `takeSeqs` and appends one `message.new` per message to the
 * event log, so resync and history work on imported channels as on live ones. A message's event
 * carries its final state (reactions, pin, edit, reply count), so replaying the log gives what a
 * fresh read gives. Members' `last_read_seq` is moved to the end: imported history is read.
 * Search needs nothing: the messages' trigger indexes them as they are inserted.
 *
 * Idempotent by construction: user ids (`slack-U…`), channel ids and message ids (a UUIDv7 from
 * the message's time and a hash of app, channel and `ts`) are derived from the export, and rows
 * already there are skipped — a re-run imports nothing twice, and completes a run that failed
 * part-way (a failed channel's transaction left nothing of it).
 */
import { createHash } from 'node:crypto';
import { type ChannelEvent, USERNAME_PATTERN } from '@parley/protocol';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Database, type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { logEvents, type Outbox, takeSeqs } from '../../platform/event-log.js';
import type { BlobStore } from '../../platform/storage/index.js';
import { type FileRow, presentAttachment, SNIFF_BYTES, sanitizeName, sniff } from '../files/index.js';
import { type MessageRow, presentMessage } from '../messages/index.js';
import { convertSlackText } from './slack-text.js';

// ---- the export's shapes (only what is read) ------------------------------------------------

interface SlackUser {
  id: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  profile?: { email?: string; real_name?: string; display_name?: string; title?: string };
}

interface SlackChannel {
  id: string;
  name: string;
  created?: number;
  creator?: string;
  is_archived?: boolean;
  members?: string[];
  topic?: { value?: string };
  purpose?: { value?: string };
}

interface SlackFile {
  id?: string;
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
}

interface SlackMessage {
  ts?: string;
  user?: string;
  text?: string;
  subtype?: string;
  thread_ts?: string;
  reply_count?: number;
  reactions?: { name?: string; users?: string[]; count?: number }[];
  edited?: { user?: string; ts?: string };
  pinned_to?: string[];
  files?: SlackFile[];
  bot_id?: string;
  username?: string;
  bot_profile?: { name?: string };
  name?: string;
  old_name?: string;
  topic?: string;
  purpose?: string;
}

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
  | 'unreadable day file'
  /** `groups.json`, `dms.json`, `mpims.json` (exports of plans that include them): not imported. */
  | 'private conversation';

export interface ImportSkip {
  reason: SkipReason;
  channel: string;
  ts?: string;
  detail?: string;
}

export interface ImportReport {
  dry_run: boolean;
  users: { matched: number; created: number; existing: number; deactivated: string[]; bots: number };
  channels: { imported: number; existing: number; archived: number };
  messages: { imported: number; existing: number; replies: number; system: number };
  reactions: number;
  pins: number;
  files: { attached: number; skipped: number };
  skipped: { total: number; by_reason: Partial<Record<SkipReason, number>>; items: ImportSkip[] };
}

/** A mistake in the input the operator must fix: nothing was written. */
export class ImportInputError extends Error {}

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

const userIdOf = (slackId: string) => `slack-${slackId}`.slice(0, 64);
const botIdOf = (botId: string) => `slack-bot-${botId}`.slice(0, 64);
const channelSlug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'channel';

// ---- reading the export ---------------------------------------------------------------------

function readJson<T>(files: ReadonlyMap<string, Uint8Array>, name: string): T {
  const bytes = files.get(name);
  if (!bytes) throw new ImportInputError(`the export has no ${name} (is it a Slack workspace export?)`);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch {
    throw new ImportInputError(`${name} in the export is not valid JSON`);
  }
}

/** The paths of the export, with a single top folder (a zipped folder) taken off. */
export function normalizeExportPaths(files: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of files) if (!k.endsWith('/')) out.set(k.replace(/\\/g, '/'), v);
  if (out.has('users.json')) return out;
  const tops = new Set([...out.keys()].map((k) => k.split('/')[0]));
  if (tops.size !== 1) return out;
  const top = `${[...tops][0]}/`;
  return new Map([...out].map(([k, v]) => [k.startsWith(top) ? k.slice(top.length) : k, v]));
}

// ---- the import ---------------------------------------------------------------------------

interface Person {
  userId: string;
  /** How a mention of them is written: their username, else their name. */
  handle: string;
  /** Their display name, for system notes. */
  name: string;
}

/**
 * Import `files` (the export's paths → bytes) into the workspace `appId`. Throws
 * `ImportInputError` for an input that cannot be imported, before anything is written.
 */
export async function importSlackExport(
  database: Database,
  appId: string,
  rawFiles: ReadonlyMap<string, Uint8Array>,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const db = database.db;
  const dryRun = !!opts.dryRun;
  const now = opts.now ?? (() => new Date());
  const files = normalizeExportPaths(rawFiles);
  const slackUsers = readJson<SlackUser[]>(files, 'users.json');
  const slackChannels = readJson<SlackChannel[]>(files, 'channels.json');
  if (!Array.isArray(slackUsers)) throw new ImportInputError('users.json in the export is not a list of users');
  if (!Array.isArray(slackChannels))
    throw new ImportInputError('channels.json in the export is not a list of channels');

  const [ws] = await db
    .select({ appId: schema.workspaces.appId })
    .from(schema.workspaces)
    .where(eq(schema.workspaces.appId, appId));
  if (!ws) throw new ImportInputError(`no workspace with id ${appId}`);

  const report: ImportReport = {
    dry_run: dryRun,
    users: { matched: 0, created: 0, existing: 0, deactivated: [], bots: 0 },
    channels: { imported: 0, existing: 0, archived: 0 },
    messages: { imported: 0, existing: 0, replies: 0, system: 0 },
    reactions: 0,
    pins: 0,
    files: { attached: 0, skipped: 0 },
    skipped: { total: 0, by_reason: {}, items: [] },
  };
  const skip = (s: ImportSkip) => {
    report.skipped.total++;
    report.skipped.by_reason[s.reason] = (report.skipped.by_reason[s.reason] ?? 0) + 1;
    report.skipped.items.push(s);
  };

  // Only public channels are imported (the standard export has no others).
  for (const name of ['groups.json', 'dms.json', 'mpims.json']) {
    if (!files.has(name)) continue;
    let n = 0;
    try {
      const list = JSON.parse(Buffer.from(files.get(name) as Uint8Array).toString('utf8')) as unknown;
      n = Array.isArray(list) ? list.length : 0;
    } catch {
      n = 0;
    }
    if (n > 0) skip({ reason: 'private conversation', channel: name, detail: `${n} conversation(s) not imported` });
  }

  // ---- users: matched by email to the workspace's members, created otherwise ----
  const memberRows = await db
    .select({ email: schema.accounts.email, userId: schema.workspaceMembers.userId })
    .from(schema.workspaceMembers)
    .innerJoin(schema.accounts, eq(schema.accounts.id, schema.workspaceMembers.accountId))
    .where(eq(schema.workspaceMembers.appId, appId));
  const byEmail = new Map(memberRows.map((r) => [r.email.toLowerCase(), r.userId]));
  const people = new Map<string, Person>();
  const toCreate: (typeof schema.users.$inferInsert)[] = [];
  const wantedNames = slackUsers.map((u) => u.name).filter((n): n is string => !!n && USERNAME.test(n));
  const taken = new Map<string, string>(); // lower(username) → user id holding it
  for (let i = 0; i < wantedNames.length; i += 500) {
    const part = wantedNames.slice(i, i + 500).map((n) => n.toLowerCase());
    const held = await db
      .select({ id: schema.users.id, username: schema.users.username })
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), inArray(sql`lower(${schema.users.username})`, part)));
    for (const h of held) if (h.username) taken.set(h.username.toLowerCase(), h.id);
  }
  const existingUserIds = new Set(
    (
      await db
        .select({ id: schema.users.id })
        .from(schema.users)
        .where(and(eq(schema.users.appId, appId), sql`${schema.users.id} like 'slack-%'`))
    ).map((r) => r.id),
  );
  const matchedIds = [...new Set(memberRows.map((r) => r.userId))];
  const matchedUsers = new Map<string, { name: string; username: string | null }>();
  for (let i = 0; i < matchedIds.length; i += 500) {
    const part = matchedIds.slice(i, i + 500);
    const got = await db
      .select({ id: schema.users.id, name: schema.users.name, username: schema.users.username })
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), inArray(schema.users.id, part)));
    for (const g of got) matchedUsers.set(g.id, g);
  }
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
    if (u.name && USERNAME.test(u.name)) {
      const holder = taken.get(u.name.toLowerCase());
      if (!holder || holder === userId) {
        username = u.name;
        taken.set(u.name.toLowerCase(), userId);
      }
    }
    people.set(u.id, { userId, handle: username ?? name, name });
    if (u.deleted) report.users.deactivated.push(`${name} (${u.id})`);
    if (existingUserIds.has(userId)) report.users.existing++;
    else {
      report.users.created++;
      toCreate.push({ appId, id: userId, name, username, title: u.profile?.title?.trim() || null });
    }
  }

  // Bots that post without a user (`bot_message`): one user per bot id.
  const bots = new Map<string, string>(); // bot id → name
  const channelsByName = new Map<string, SlackChannel>();
  for (const c of slackChannels)
    if (c && typeof c.name === 'string' && typeof c.id === 'string') channelsByName.set(c.name, c);
  const days = new Map<string, SlackMessage[]>(); // channel name → its messages, in time order
  for (const c of channelsByName.values()) {
    const prefix = `${c.name}/`;
    const names = [...files.keys()].filter(
      (k) => k.startsWith(prefix) && /^\d{4}-\d{2}-\d{2}\.json$/.test(k.slice(prefix.length)),
    );
    names.sort();
    const all: SlackMessage[] = [];
    for (const n of names) {
      try {
        const day = JSON.parse(Buffer.from(files.get(n) as Uint8Array).toString('utf8')) as unknown;
        if (!Array.isArray(day)) throw new Error('not a list');
        for (const m of day) if (m && typeof m === 'object' && typeof (m as SlackMessage).ts === 'string') all.push(m);
      } catch {
        skip({ reason: 'unreadable day file', channel: c.name, detail: n });
      }
    }
    all.sort((a, b) => Number(a.ts) - Number(b.ts) || (a.ts as string).localeCompare(b.ts as string));
    days.set(c.name, all);
    for (const m of all) {
      if (m.subtype === 'bot_message' && !m.user && m.bot_id && !bots.has(m.bot_id))
        bots.set(m.bot_id, m.bot_profile?.name || m.username || 'bot');
    }
  }
  for (const [botId, name] of bots) {
    const userId = botIdOf(botId);
    report.users.bots++;
    if (!existingUserIds.has(userId)) toCreate.push({ appId, id: userId, name, username: null, role: 'user' });
  }

  if (!dryRun && toCreate.length > 0) {
    await db.transaction(async (tx) => {
      for (let i = 0; i < toCreate.length; i += 500)
        await tx
          .insert(schema.users)
          .values(toCreate.slice(i, i + 500))
          .onConflictDoNothing();
    });
  }

  const channelName = (slackId: string) => {
    for (const c of channelsByName.values()) if (c.id === slackId) return c.name;
    return null;
  };
  const ctx = {
    user: (id: string) => people.get(id) ?? null,
    channel: channelName,
  };

  // ---- channels, one transaction each ----
  const list = [...channelsByName.values()];
  opts.onProgress?.(0, list.length, null);
  let done = 0;
  for (const c of list) {
    const stats = await importChannel(db, appId, c, days.get(c.name) ?? [], {
      ctx,
      people,
      files,
      dryRun,
      now,
      skip,
      store: opts.store,
      maxFileBytes: opts.maxFileBytes ?? Number.POSITIVE_INFINITY,
    });
    report.channels[stats.existed ? 'existing' : 'imported']++;
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
  return report;
}

interface ChannelStats {
  existed: boolean;
  imported: number;
  existing: number;
  replies: number;
  system: number;
  reactions: number;
  pins: number;
  filesSkipped: number;
  filesAttached: number;
}

/** The cid of a Slack channel: `public:<name>`, or `public:<name>-<slack id>` when another channel has that. */
async function chooseCid(q: Queryable, appId: string, c: SlackChannel, createdAt: Date) {
  const slug = channelSlug(c.name);
  for (const id of [slug, `${slug}-${c.id.toLowerCase()}`.slice(0, 64)]) {
    const cid = `public:${id}`;
    const [row] = await q
      .select({ createdAt: schema.channels.createdAt, createdBy: schema.channels.createdBy })
      .from(schema.channels)
      .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, cid)));
    // A channel this import made has the Slack channel's creation time to the second.
    if (!row) return { cid, id, existed: false };
    if (row.createdAt.getTime() === createdAt.getTime()) return { cid, id, existed: true };
  }
  throw new ImportInputError(`channels public:${slug} and public:${slug}-${c.id.toLowerCase()} are both taken`);
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
  db: Database['db'],
  appId: string,
  c: SlackChannel,
  messages: SlackMessage[],
  env: {
    ctx: Parameters<typeof convertSlackText>[1];
    people: Map<string, Person>;
    files: ReadonlyMap<string, Uint8Array>;
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
  const run = async (tx: Tx | Database['db']) => {
    const { cid, id, existed } = await chooseCid(tx, appId, c, createdAt);
    stats.existed = existed;
    const author = (m: SlackMessage): string | null => {
      if (m.user) return env.people.get(m.user)?.userId ?? null;
      if (m.subtype === 'bot_message' && m.bot_id) return botIdOf(m.bot_id);
      return null;
    };
    const memberIds = [
      ...new Set((c.members ?? []).map((u) => env.people.get(u)?.userId).filter((u): u is string => !!u)),
    ];
    const creator = c.creator ? (env.people.get(c.creator)?.userId ?? null) : null;

    // Build the rows in time order; replies need their parent imported (now or before).
    const rows: MessageRow[] = [];
    const reactionRows: (typeof schema.reactions.$inferInsert)[] = [];
    const flagRows: { userId: string; messageId: string }[] = [];
    const byTs = new Map<string, MessageRow>();
    const fileRows: FileRow[] = [];
    const fileBytes = new Map<string, Buffer>();
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
      for (const f of m.files ?? []) {
        const bytes = f.id && f.name ? env.files.get(`__uploads/${f.id}/${f.name}`) : undefined;
        const detail = f.name ?? f.title ?? f.id;
        const reason: SkipReason | null = !bytes
          ? 'file not in export'
          : !env.store
            ? 'file bytes not imported'
            : bytes.length > env.maxFileBytes
              ? 'file too large'
              : null;
        if (reason || !bytes) {
          env.skip({ ...where, reason: reason ?? 'file not in export', detail });
          stats.filesSkipped++;
          continue;
        }
        const buf = Buffer.from(bytes);
        const name = sanitizeName(f.name);
        const sniffed = await sniff(buf.subarray(0, SNIFF_BYTES), name, f.mimetype);
        const fileId = slackMessageId(appId, `${cid}/file/${f.id}`, ts);
        attachments.push({
          appId,
          id: fileId,
          cid,
          userId,
          name,
          size: buf.length,
          mimeType: sniffed.mime,
          declaredType: f.mimetype?.slice(0, 200) ?? null,
          typeMismatch: sniffed.mismatch,
          kind: sniffed.kind,
          storageKey: `${appId}/${fileId}`,
          sha256: createHash('sha256').update(buf).digest('hex'),
          width: null,
          height: null,
          blurhash: null,
          durationMs: null,
          thumbs: {},
          processing: 'none',
          messageId: msgId,
          createdAt: at,
          attachedAt: at,
          deletedAt: null,
        });
        fileBytes.set(fileId, buf);
      }
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
    const stored = new Set<string>();
    if (existed) {
      for (let i = 0; i < rows.length; i += 1000) {
        const part = rows.slice(i, i + 1000).map((r) => r.id);
        const got = await tx
          .select({ id: schema.messages.id })
          .from(schema.messages)
          .where(and(eq(schema.messages.appId, appId), inArray(schema.messages.id, part)));
        for (const g of got) stored.add(g.id);
      }
    }
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
    if (env.dryRun) return;
    // The bytes first, under keys derived from the export: a failed transaction leaves them to
    // be written over by the re-run that completes it.
    for (const f of freshFiles)
      await env.store?.putBytes(f.storageKey, fileBytes.get(f.id) as Buffer, { contentType: f.mimeType });

    const lastAt = rows.filter((r) => !r.parentId || r.showInChannel).at(-1)?.createdAt ?? null;
    if (!existed) {
      const archivedAt = c.is_archived ? (rows.at(-1)?.createdAt ?? env.now()) : null;
      await tx.insert(schema.channels).values({
        appId,
        cid,
        type: 'public',
        id,
        name: c.name,
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
      const first = await takeSeqs(tx, appId, cid, fresh.length, lastAt ?? undefined);
      fresh.forEach((r, i) => {
        r.seq = first + i;
      });
      // Replies to a parent an earlier run stored (a later export): the parent's thread fields
      // move, and the last such reply's event carries it, as a live reply's does.
      const lastReplyTo = new Map<string, MessageRow>(); // stored parent id → its last fresh reply
      for (const r of fresh) if (r.parentId && stored.has(r.parentId)) lastReplyTo.set(r.parentId, r);
      const parents = new Map<string, MessageRow>();
      for (const [parentId, last] of lastReplyTo) {
        const [p] = await tx
          .select()
          .from(schema.messages)
          .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, parentId)));
        if (!p) continue;
        const replies = fresh.filter((r) => r.parentId === parentId);
        const participants = [...new Set([...p.threadParticipants, ...replies.map((r) => r.userId)])];
        const [updated] = await tx
          .update(schema.messages)
          .set({
            replyCount: p.replyCount + replies.length,
            lastReplyAt: p.lastReplyAt && p.lastReplyAt > last.createdAt ? p.lastReplyAt : last.createdAt,
            threadParticipants: participants,
          })
          .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, parentId)))
          .returning();
        if (updated) parents.set(last.id, updated);
      }
      const out: Outbox = []; // no server runs: nothing to publish
      for (let i = 0; i < fresh.length; i += 500) {
        const part = fresh.slice(i, i + 500);
        await tx.insert(schema.messages).values(part);
        const events: ChannelEvent[] = part.map((r) => {
          const parent = parents.get(r.id);
          return {
            type: 'message.new',
            cid,
            seq: r.seq,
            created_at: r.createdAt.toISOString(),
            message: presentMessage(r),
            ...(parent ? { parent: presentMessage(parent) } : {}),
          };
        });
        await logEvents(tx, out, appId, events);
      }
      if (freshFiles.length > 0) await tx.insert(schema.files).values(freshFiles).onConflictDoNothing();
      for (let i = 0; i < freshReactions.length; i += 1000)
        await tx
          .insert(schema.reactions)
          .values(freshReactions.slice(i, i + 1000))
          .onConflictDoNothing();
      const seqOf = new Map(fresh.map((r) => [r.id, r]));
      const flags = flagRows
        .filter((f) => seqOf.has(f.messageId))
        .map((f) => {
          const r = seqOf.get(f.messageId) as MessageRow;
          return {
            appId,
            userId: f.userId,
            messageId: f.messageId,
            cid,
            seq: r.seq,
            mentioned: true,
            createdAt: r.createdAt,
          };
        });
      for (let i = 0; i < flags.length; i += 1000)
        await tx
          .insert(schema.userMessageFlags)
          .values(flags.slice(i, i + 1000))
          .onConflictDoNothing();
      // Imported history is read: members start with nothing unread.
      await tx
        .update(schema.members)
        .set({ lastReadSeq: sql`greatest(${schema.members.lastReadSeq}, ${fresh.at(-1)?.seq ?? 0})` })
        .where(and(eq(schema.members.appId, appId), eq(schema.members.cid, cid)));
    }
  };
  if (env.dryRun) await run(db);
  else await db.transaction(async (tx) => run(tx));
  return stats;
}

/**
 * Read and check a whole Mattermost bulk export before anything is written: the JSONL that
 * `mmctl export create` writes (`import.jsonl` in a zip, with the attachments under `data/`),
 * or a bare `.jsonl` file. Every problem is named by file, line and reason, as
 * `mmctl import validate` does, or the export comes back parsed.
 *
 * The format is Mattermost's (server/channels/app/imports/import_types.go): one JSON object a
 * line, `{"type":"post","post":{…}}`, the first line `{"type":"version","version":1}`. Teams,
 * channels and users name each other by name (a post's `team`, `channel` and `user` are names,
 * a reaction's `user` a username), so references are checked once every line is read: a post in
 * a channel the export lacks, a reaction by a user it lacks, refuse the export. The shapes below
 * are what the importer reads, checked with TypeBox as the Slack export's are; fields it does not
 * read are let through (Mattermost adds fields over releases), and optional ones may be null.
 */
import { statSync } from 'node:fs';
import { open as openFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type ExportProblem, ImportInputError } from './errors.js';
import {
  DEFAULT_EXPORT_LIMITS,
  type ExportArchive,
  type ExportBlob,
  ExportLimitError,
  type ExportLimits,
  openExportZip,
  unsafeName,
} from './zip.js';

const Opt = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Text = Type.String();
/** Mattermost's times: milliseconds since 1970, never 0 for a post, reply or reaction. */
const Millis = Type.Integer({ minimum: 1 });
const Name = Type.String({ minLength: 1, maxLength: 64 });

const TeamSchema = Type.Object({
  name: Name,
  display_name: Opt(Text),
  description: Opt(Text),
});

const ChannelSchema = Type.Object({
  team: Name,
  name: Name,
  display_name: Opt(Text),
  type: Type.Union([Type.Literal('O'), Type.Literal('P')]),
  header: Opt(Text),
  purpose: Opt(Text),
  deleted_at: Opt(Type.Integer({ minimum: 0 })),
});

const UserSchema = Type.Object({
  username: Name,
  email: Opt(Text),
  nickname: Opt(Text),
  first_name: Opt(Text),
  last_name: Opt(Text),
  position: Opt(Text),
  roles: Opt(Text),
  delete_at: Opt(Type.Integer({ minimum: 0 })),
  teams: Opt(
    Type.Array(
      Type.Object({
        name: Name,
        roles: Opt(Text),
        channels: Opt(Type.Array(Type.Object({ name: Name, roles: Opt(Text) }))),
      }),
    ),
  ),
  custom_status: Opt(Type.Object({ emoji: Opt(Text), text: Opt(Text), duration: Opt(Text), expires_at: Opt(Text) })),
  /** The profile picture's path (under `data/`), with `mmctl export create --include-profile-pictures`. */
  profile_image: Opt(Text),
});

const BotSchema = Type.Object({
  username: Name,
  display_name: Opt(Text),
  profile_image: Opt(Text),
  delete_at: Opt(Type.Integer({ minimum: 0 })),
});

const ReactionSchema = Type.Object({ user: Name, emoji_name: Type.String({ minLength: 1 }), create_at: Millis });
const AttachmentSchema = Type.Object({ path: Type.String({ minLength: 1 }) });

/** Free-form; the importer reads the text of `attachments` (integrations' message attachments). */
const Props = Opt(Type.Unknown());

const ReplySchema = Type.Object({
  user: Name,
  message: Text,
  props: Props,
  create_at: Millis,
  edit_at: Opt(Type.Integer({ minimum: 0 })),
  type: Opt(Text),
  is_pinned: Opt(Type.Boolean()),
  flagged_by: Opt(Type.Array(Name)),
  reactions: Opt(Type.Array(ReactionSchema)),
  attachments: Opt(Type.Array(AttachmentSchema)),
});

const postFields = {
  user: Name,
  message: Text,
  props: Props,
  create_at: Millis,
  edit_at: Opt(Type.Integer({ minimum: 0 })),
  type: Opt(Text),
  is_pinned: Opt(Type.Boolean()),
  flagged_by: Opt(Type.Array(Name)),
  reactions: Opt(Type.Array(ReactionSchema)),
  attachments: Opt(Type.Array(AttachmentSchema)),
  replies: Opt(Type.Array(ReplySchema)),
};

const PostSchema = Type.Object({ team: Name, channel: Name, ...postFields });

/** A DM (two members) or group DM (three to eight); a DM with oneself is written `[a, a]`. */
const Members = Type.Array(Name, { minItems: 2, maxItems: 8 });

/** Older exports list `members` (usernames), newer ones `participants` (`{username, …}`). */
const DirectChannelSchema = Type.Object({
  members: Opt(Members),
  participants: Opt(Type.Array(Type.Object({ username: Name }), { minItems: 2, maxItems: 8 })),
  header: Opt(Text),
});

const DirectPostSchema = Type.Object({ channel_members: Members, ...postFields });

const EmojiSchema = Type.Object({
  name: Type.String({ pattern: '^[a-zA-Z0-9_+-]{1,64}$' }),
  image: Type.String({ minLength: 1 }),
});

/** Null where absent is allowed in the file; the importer reads absent. */
type Clean<T> = T extends (infer U)[]
  ? Clean<U>[]
  : T extends object
    ? { [K in keyof T]: Clean<Exclude<T[K], null>> }
    : T;

/** Where a line is: `import.jsonl:12`. */
interface At {
  at: string;
}

export type MmTeam = Clean<typeof TeamSchema.static> & At;
export type MmChannel = Clean<typeof ChannelSchema.static> & At;
export type MmUser = Clean<typeof UserSchema.static> & At;
export type MmBot = Clean<typeof BotSchema.static> & At;
export type MmReaction = Clean<typeof ReactionSchema.static>;
export type MmAttachment = Clean<typeof AttachmentSchema.static>;
export type MmReply = Clean<typeof ReplySchema.static>;
export type MmPost = Clean<typeof PostSchema.static> & At;
export type MmDirectPost = Clean<typeof DirectPostSchema.static> & At;
export type MmEmoji = Clean<typeof EmojiSchema.static> & At;
/** A direct channel, its members as listed (usernames), whichever field held them. */
export interface MmDirectChannel extends At {
  members: string[];
  header?: string;
}

export interface MattermostExport {
  /** The JSONL's name in the export. */
  file: string;
  teams: MmTeam[];
  channels: MmChannel[];
  users: MmUser[];
  bots: MmBot[];
  posts: MmPost[];
  directChannels: MmDirectChannel[];
  directPosts: MmDirectPost[];
  emoji: MmEmoji[];
  /** Lines of kinds Parley has no use for (`role`, `scheme`), by type. */
  ignored: Record<string, number>;
  problems: ExportProblem[];
}

const SCHEMAS: Record<string, TSchema> = {
  team: TeamSchema,
  channel: ChannelSchema,
  user: UserSchema,
  bot: BotSchema,
  post: PostSchema,
  direct_channel: DirectChannelSchema,
  direct_post: DirectPostSchema,
  emoji: EmojiSchema,
};
/** Known to Mattermost, nothing to Parley: permission schemes and roles are its own. */
const IGNORED = new Set(['scheme', 'role']);

/** Problems listed at most; the rest are counted in one last line. */
const MAX_PROBLEMS = 100;

/** Drop the nulls a valid document may hold, so the importer sees absent fields. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return '';
  const s = JSON.stringify(v);
  return s === undefined ? '' : ` (got ${s.length > 40 ? `${s.slice(0, 40)}…` : s})`;
}

/** A TypeBox error path (`/replies/0/user`) as written in the line (`replies[0].user`). */
const fieldPath = (p: string) => p.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');

/** The JSONL of the export: `import.jsonl`, else the only `*.jsonl` at its top. */
function findJsonl(archive: ExportArchive): string | null {
  const names = [...archive.files.keys(), ...archive.blobs.keys()];
  if (names.includes('import.jsonl')) return 'import.jsonl';
  const top = names.filter((n) => !n.includes('/') && n.endsWith('.jsonl'));
  return top.length === 1 ? (top[0] as string) : null;
}

/** Lower-cased: Mattermost's usernames and names compare without case. */
const key = (s: string) => s.toLowerCase();

/**
 * Parse and check every line of the export's JSONL, then every reference between lines. The
 * order of lines is not checked (Mattermost writes teams, channels, users, posts, emoji, DMs):
 * references are resolved once all are read.
 */
export async function readMattermostExport(archive: ExportArchive): Promise<MattermostExport> {
  const problems: ExportProblem[] = [...archive.problems];
  let dropped = 0;
  const problem = (file: string, reason: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ file, reason });
    else dropped++;
  };
  const out: MattermostExport = {
    file: 'import.jsonl',
    teams: [],
    channels: [],
    users: [],
    bots: [],
    posts: [],
    directChannels: [],
    directPosts: [],
    emoji: [],
    ignored: {},
    problems,
  };
  const file = findJsonl(archive);
  if (!file) {
    problem('import.jsonl', 'missing: the export holds no .jsonl file (is it a Mattermost bulk export?)');
    return out;
  }
  out.file = file;
  const bytes = archive.files.get(file) ?? (await (archive.blobs.get(file) as ExportBlob).read());
  // Line by line from the bytes, each decoded alone: a JSONL larger than the longest string V8
  // makes (about 512 MiB) is read as well as a small one, and a bad byte names its line.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let sawVersion = false;
  let sawLine = false;
  let lineNo = 0;
  let first = true;
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const chunk = bytes.subarray(start, end);
    start = end + 1;
    lineNo++;
    let line: string;
    try {
      line = decoder.decode(chunk).trim();
    } catch {
      problem(`${file}:${lineNo}`, 'not UTF-8 text');
      first = false;
      continue;
    }
    if (!line) continue;
    sawLine = true;
    const at = `${file}:${lineNo}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      problem(at, `not valid JSON (${(e as Error).message})`);
      first = false;
      continue;
    }
    const wasFirst = first;
    first = false;
    if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { type?: unknown }).type !== 'string') {
      problem(at, `not a line of the bulk format: an object with a "type"${describe(v)}`);
      continue;
    }
    const type = (v as { type: string }).type;
    if (type === 'version') {
      const version = (v as { version?: unknown }).version;
      if (!wasFirst) problem(at, 'the version line must be the first line');
      else if (version !== 1)
        problem(at, `version: Mattermost's bulk format version 1 is supported${describe(version)}`);
      sawVersion = true;
      continue;
    }
    if (wasFirst) problem(at, 'the first line must be the version line, {"type":"version","version":1}');
    if (IGNORED.has(type)) {
      out.ignored[type] = (out.ignored[type] ?? 0) + 1;
      continue;
    }
    const schema = SCHEMAS[type];
    if (!schema) {
      problem(at, `unknown line type ${JSON.stringify(type)}`);
      continue;
    }
    const body = (v as Record<string, unknown>)[type];
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      problem(at, `a ${type} line needs its "${type}" object${describe(body)}`);
      continue;
    }
    if (!Value.Check(schema, body)) {
      // The first error of a line says enough.
      const err = Value.Errors(schema, body).First();
      const where = err ? fieldPath(err.path).replace(/^\./, '') : '';
      problem(at, `${type}${where ? `.${where}` : ''}: ${err ? `${err.message}${describe(err.value)}` : 'malformed'}`);
      continue;
    }
    const item = { ...(dropNulls(body) as object), at };
    switch (type) {
      case 'team':
        out.teams.push(item as MmTeam);
        break;
      case 'channel':
        out.channels.push(item as MmChannel);
        break;
      case 'user':
        out.users.push(item as MmUser);
        break;
      case 'bot':
        out.bots.push(item as MmBot);
        break;
      case 'post':
        out.posts.push(item as MmPost);
        break;
      case 'direct_channel': {
        const d = item as { members?: string[]; participants?: { username: string }[]; header?: string; at: string };
        const members = d.members ?? d.participants?.map((p) => p.username);
        if (!members) problem(at, 'direct_channel: needs its members (members or participants)');
        else out.directChannels.push({ members, header: d.header, at });
        break;
      }
      case 'direct_post':
        out.directPosts.push(item as MmDirectPost);
        break;
      case 'emoji':
        out.emoji.push(item as MmEmoji);
        break;
    }
  }
  if (!sawLine) problem(file, 'empty: no lines');
  else if (!sawVersion && !problems.some((p) => p.reason.startsWith('the first line')))
    problem(file, 'no version line');

  // ---- references between lines ----
  const teams = new Map<string, MmTeam>();
  for (const t of out.teams) {
    if (teams.has(key(t.name))) problem(t.at, `team: a second team named ${t.name} (${teams.get(key(t.name))?.at})`);
    else teams.set(key(t.name), t);
  }
  const channels = new Map<string, MmChannel>(); // team\nchannel → channel
  for (const c of out.channels) {
    const k = `${key(c.team)}\n${key(c.name)}`;
    if (!teams.has(key(c.team))) problem(c.at, `channel.team: no team ${c.team} in the export`);
    else if (channels.has(k))
      problem(c.at, `channel: a second channel ${c.name} in team ${c.team} (${channels.get(k)?.at})`);
    else channels.set(k, c);
  }
  const people = new Map<string, string>(); // username → the line that defines it
  for (const u of [...out.users, ...out.bots]) {
    const k = key(u.username);
    const other = people.get(k);
    if (other) {
      problem(u.at, `a second user or bot named ${u.username} (${other})`);
      continue;
    }
    people.set(k, u.at);
  }
  for (const u of [...out.users, ...out.bots]) {
    const unsafe = u.profile_image ? unsafeName(u.profile_image) : null;
    if (unsafe) problem(u.at, `profile_image: unsafe (${unsafe}): ${u.profile_image}`);
  }
  for (const u of out.users)
    for (const [i, t] of (u.teams ?? []).entries()) {
      if (!teams.has(key(t.name))) {
        problem(u.at, `user.teams[${i}].name: no team ${t.name} in the export`);
        continue;
      }
      for (const [j, c] of (t.channels ?? []).entries())
        if (!channels.has(`${key(t.name)}\n${key(c.name)}`))
          problem(u.at, `user.teams[${i}].channels[${j}].name: no channel ${c.name} in team ${t.name}`);
    }
  const knownUser = (at: string, field: string, name: string) => {
    if (people.has(key(name))) return true;
    problem(at, `${field}: no user ${name} in the export`);
    return false;
  };
  const checkPost = (
    kind: 'post' | 'direct_post',
    p: {
      at: string;
      user: string;
      create_at: number;
      flagged_by?: string[];
      reactions?: MmReaction[];
      replies?: MmReply[];
      attachments?: MmAttachment[];
    },
  ) => {
    knownUser(p.at, `${kind}.user`, p.user);
    const reactionsAndFiles = (
      where: string,
      r: { reactions?: MmReaction[]; attachments?: MmAttachment[]; flagged_by?: string[] },
    ) => {
      for (const [i, x] of (r.reactions ?? []).entries()) knownUser(p.at, `${where}.reactions[${i}].user`, x.user);
      for (const [i, u] of (r.flagged_by ?? []).entries()) knownUser(p.at, `${where}.flagged_by[${i}]`, u);
      for (const [i, a] of (r.attachments ?? []).entries()) {
        const unsafe = unsafeName(a.path);
        if (unsafe) problem(p.at, `${where}.attachments[${i}].path: unsafe (${unsafe}): ${a.path}`);
      }
    };
    reactionsAndFiles(kind, p);
    for (const [i, r] of (p.replies ?? []).entries()) {
      knownUser(p.at, `${kind}.replies[${i}].user`, r.user);
      // A reply written before its post answers nothing there was: its thread would not hold.
      if (r.create_at < p.create_at)
        problem(
          p.at,
          `${kind}.replies[${i}].create_at: ${new Date(r.create_at).toISOString()} is before its post's ` +
            `${new Date(p.create_at).toISOString()}: a reply to a message not yet written`,
        );
      reactionsAndFiles(`${kind}.replies[${i}]`, r);
    }
  };
  for (const p of out.posts) {
    if (!teams.has(key(p.team))) problem(p.at, `post.team: no team ${p.team} in the export`);
    else if (!channels.has(`${key(p.team)}\n${key(p.channel)}`))
      problem(p.at, `post.channel: no channel ${p.channel} in team ${p.team}`);
    checkPost('post', p);
  }
  for (const d of out.directChannels)
    for (const [i, m] of d.members.entries()) knownUser(d.at, `direct_channel.members[${i}]`, m);
  for (const p of out.directPosts) {
    for (const [i, m] of p.channel_members.entries()) knownUser(p.at, `direct_post.channel_members[${i}]`, m);
    checkPost('direct_post', p);
  }
  if (dropped > 0) problems.push({ file, reason: `… and ${dropped} more problems` });
  return out;
}

/**
 * Open a Mattermost export for reading: a zip (read as a stream within `limits`, zip.ts), or a
 * bare JSONL file — with its attachments, if any, in the `data/` folder beside it, as
 * `mmctl export create` leaves them when not making an archive.
 */
export async function openMattermostExport(
  file: string,
  limits: ExportLimits = DEFAULT_EXPORT_LIMITS,
): Promise<ExportArchive> {
  let head: Buffer;
  let size: number;
  try {
    size = (await stat(file)).size;
    const fh = await openFile(file, 'r');
    try {
      head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImportInputError(code === 'ENOENT' ? `no file ${file}` : `cannot read ${file} (${code ?? 'error'})`);
  }
  // Zip files (attachments and all) start "PK"; a JSONL starts with "{" or white space.
  if (head[0] === 0x50 && head[1] === 0x4b) return openExportZip(file, limits);
  // Named as the file is, so problems name it; any other name reads as mmctl's.
  const name = path.basename(file).endsWith('.jsonl') ? path.basename(file) : 'import.jsonl';
  if (size > limits.maxEntryBytes)
    throw new ExportLimitError(
      'entry size',
      name,
      `${name} is larger than ${Math.round(limits.maxEntryBytes / 1024 / 1024)} MiB (--max-entry-size)`,
    );
  const files = new Map<string, Uint8Array>([[name, await readFile(file)]]);
  return { files, blobs: new FolderBlobs(path.dirname(file), limits), problems: [], close: async () => {} };
}

/**
 * The files beside a bare JSONL, looked up when asked for (`data/<path>`): a map that reads the
 * folder on demand instead of listing it, so a large `data/` costs nothing until it is used.
 */
class FolderBlobs extends Map<string, ExportBlob> {
  constructor(
    private readonly dir: string,
    private readonly limits: ExportLimits,
  ) {
    super();
  }
  override get(name: string): ExportBlob | undefined {
    const got = super.get(name);
    if (got) return got;
    if (!name.startsWith('data/') || unsafeName(name)) return undefined;
    const full = path.join(this.dir, name);
    let size: number;
    try {
      const st = statSync(full);
      if (!st.isFile()) return undefined;
      size = st.size;
    } catch {
      return undefined;
    }
    const max = this.limits.maxEntryBytes;
    const blob: ExportBlob = {
      size,
      read: async () => {
        if (size > max) throw new ImportInputError(`${name} is larger than ${Math.round(max / 1024 / 1024)} MiB`);
        return readFile(full);
      },
    };
    super.set(name, blob);
    return blob;
  }
  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

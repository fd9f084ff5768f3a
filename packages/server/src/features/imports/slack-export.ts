/**
 * Read and check a whole Slack export before anything is written: every problem, each named by
 * file and reason (like `mmctl import validate`), or the export parsed.
 *
 * The shapes below are what the importer reads, checked with TypeBox as the protocol's schemas
 * are; fields the importer does not read are let through (Slack adds fields over the years),
 * and optional text may be null (some exports write null for an empty profile field).
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ExportProblem } from './errors.js';
import type { ExportArchive } from './zip.js';

const Opt = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Text = Type.String();
/** Slack's message time, `1700000000.000200`. */
const Ts = Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,9})?$' });

const SlackUserSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Opt(Text),
  real_name: Opt(Text),
  deleted: Opt(Type.Boolean()),
  is_bot: Opt(Type.Boolean()),
  tz: Opt(Text),
  profile: Opt(
    Type.Object({
      bot_id: Opt(Text),
      email: Opt(Text),
      real_name: Opt(Text),
      display_name: Opt(Text),
      title: Opt(Text),
      status_text: Opt(Text),
      status_emoji: Opt(Text),
      status_expiration: Opt(Type.Number()),
      /** The picture's URL at Slack; its file's name is the one under `__avatars/<user id>/`. */
      image_original: Opt(Text),
    }),
  ),
});

const SlackChannelSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  // The name is the folder of the channel's days: one path segment.
  name: Type.String({ minLength: 1, pattern: '^[^/\\\\]+$' }),
  created: Opt(Type.Number()),
  creator: Opt(Text),
  is_archived: Opt(Type.Boolean()),
  members: Opt(Type.Array(Text)),
  topic: Opt(Type.Object({ value: Opt(Text) })),
  purpose: Opt(Type.Object({ value: Opt(Text) })),
});

/** `dms.json`: a DM has no name; its folder is its id. */
const SlackDmSchema = Type.Object({
  id: Type.String({ minLength: 1, pattern: '^[^/\\\\]+$' }),
  created: Opt(Type.Number()),
  members: Type.Array(Text),
});

const SlackMessageSchema = Type.Object({
  ts: Ts,
  user: Opt(Text),
  text: Opt(Text),
  subtype: Opt(Text),
  thread_ts: Opt(Ts),
  reply_count: Opt(Type.Number()),
  reactions: Opt(Type.Array(Type.Object({ name: Opt(Text), users: Opt(Type.Array(Text)), count: Opt(Type.Number()) }))),
  edited: Opt(Type.Object({ user: Opt(Text), ts: Opt(Ts) })),
  pinned_to: Opt(Type.Array(Text)),
  files: Opt(
    Type.Array(
      Type.Object({ id: Opt(Text), name: Opt(Text), title: Opt(Text), mimetype: Opt(Text), size: Opt(Type.Number()) }),
    ),
  ),
  bot_id: Opt(Text),
  username: Opt(Text),
  bot_profile: Opt(Type.Object({ name: Opt(Text) })),
  name: Opt(Text),
  old_name: Opt(Text),
  topic: Opt(Text),
  purpose: Opt(Text),
});

/** Null where absent is allowed on the wire; the importer reads absent. */
type Clean<T> = T extends (infer U)[]
  ? Clean<U>[]
  : T extends object
    ? { [K in keyof T]: Clean<Exclude<T[K], null>> }
    : T;

export type SlackUser = Clean<typeof SlackUserSchema.static>;
export type SlackChannel = Clean<typeof SlackChannelSchema.static>;
export type SlackMessage = Clean<typeof SlackMessageSchema.static>;

/** Problems listed for one file at most; the rest are counted. */
const MAX_PER_FILE = 20;

/**
 * Where a conversation comes from: `channels.json` (public), `groups.json` (private channels),
 * `mpims.json` (group DMs), `dms.json` (DMs).
 */
export type SlackKind = 'public' | 'private' | 'mpim' | 'dm';

/** A conversation of any kind; `name` is its folder (a DM's id). */
export type SlackConversation = SlackChannel & { kind: SlackKind };

/**
 * A custom emoji of the export (slackdump's layout: `emojis/<name>.<png|gif|jpg|webp>`, with
 * `index.json` naming each emoji's aliases: `"alias:<name>"` values, or objects with `aliases`).
 */
export interface SlackEmoji {
  name: string;
  /** Its image's entry in the archive. */
  file: string;
  aliases: string[];
}

/** slackdump's emoji index: a name → its URL, `alias:<name>`, or (full mode) an object. */
const EmojiIndexSchema = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Object({ aliases: Opt(Type.Array(Text)) })]),
);

export interface SlackExport {
  users: SlackUser[];
  /** User id → their picture's entry (`__avatars/<user id>/<file>`), for those the export has one of. */
  avatars: Map<string, string>;
  /** The export has an `__avatars/` folder (slackdump's `-avatars`): a person missing from it is said. */
  withAvatars: boolean;
  emoji: SlackEmoji[];
  /** Every conversation, public channels first, then private channels, group DMs, DMs. */
  conversations: SlackConversation[];
  /** Folder → its messages in time order (every day file, each checked). */
  days: Map<string, SlackMessage[]>;
  problems: ExportProblem[];
}

const LISTS: { file: string; kind: SlackKind; required: boolean }[] = [
  { file: 'channels.json', kind: 'public', required: true },
  { file: 'groups.json', kind: 'private', required: false },
  { file: 'mpims.json', kind: 'mpim', required: false },
  { file: 'dms.json', kind: 'dm', required: false },
];

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

/**
 * Parse and check every JSON document of the export: `users.json` and `channels.json` (required),
 * `groups.json`/`mpims.json`/`dms.json` when present, and every `<folder>/YYYY-MM-DD.json` of a
 * conversation they list (a DM's folder is its id).
 */
export function readSlackExport(archive: ExportArchive): SlackExport {
  const problems: ExportProblem[] = [...archive.problems];
  const problem = (file: string, reason: string) => problems.push({ file, reason });

  const parse = (name: string): unknown => {
    const bytes = archive.files.get(name);
    if (!bytes) return undefined;
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (e) {
      problem(name, `not valid JSON (${(e as Error).message})`);
      return undefined;
    }
  };
  /** The items of a list document that match `schema`; each other item is a problem. */
  const list = <T>(name: string, value: unknown, schema: TSchema, what: string): T[] => {
    if (!Array.isArray(value)) {
      problem(name, `not a list of ${what}`);
      return [];
    }
    const ok: T[] = [];
    let listed = 0;
    let more = 0;
    value.forEach((item, i) => {
      if (Value.Check(schema, item)) {
        ok.push(dropNulls(item) as T);
        return;
      }
      for (const err of Value.Errors(schema, item)) {
        if (listed >= MAX_PER_FILE) {
          more++;
          break;
        }
        listed++;
        problem(name, `[${i}]${err.path.replace(/\//g, '.') || ''}: ${err.message}${describe(err.value)}`);
        break; // the first error of an item says enough
      }
    });
    if (more > 0) problem(name, `… and ${more} more bad ${what}`);
    return ok;
  };

  const rawUsers = parse('users.json');
  if (!archive.files.has('users.json')) problem('users.json', 'missing (is it a Slack workspace export?)');
  const users = rawUsers === undefined ? [] : list<SlackUser>('users.json', rawUsers, SlackUserSchema, 'users');
  const conversations: SlackConversation[] = [];
  const folders = new Map<string, string>(); // folder → the list that names it
  for (const { file, kind, required } of LISTS) {
    if (!archive.files.has(file)) {
      if (required) problem(file, 'missing (is it a Slack workspace export?)');
      continue;
    }
    const raw = parse(file);
    if (raw === undefined) continue;
    const items =
      kind === 'dm'
        ? list<{ id: string; created?: number; members: string[] }>(file, raw, SlackDmSchema, 'conversations').map(
            (d) => ({ ...d, name: d.id }),
          )
        : list<SlackChannel>(file, raw, SlackChannelSchema, kind === 'public' ? 'channels' : 'conversations');
    for (const c of items) {
      // Every conversation's days are a folder named after it: two of one name would mix them.
      const other = folders.get(c.name);
      if (other !== undefined) {
        problem(file, `two conversations are named ${c.name}${other === file ? '' : ` (the other in ${other})`}`);
        continue;
      }
      folders.set(c.name, file);
      conversations.push({ ...c, kind });
    }
  }

  const days = new Map<string, SlackMessage[]>();
  const dayNames = new Map<string, string[]>(); // channel folder → its day files
  for (const k of archive.files.keys()) {
    const m = /^([^/]+)\/(\d{4}-\d{2}-\d{2})\.json$/.exec(k);
    if (!m) continue;
    const folder = m[1] as string;
    dayNames.set(folder, [...(dayNames.get(folder) ?? []), k]);
  }
  for (const c of conversations) {
    const names = (dayNames.get(c.name) ?? []).sort();
    const all: SlackMessage[] = [];
    const where = new Map<string, string>(); // ts → its day file
    for (const n of names) {
      const v = parse(n);
      if (v === undefined) continue;
      for (const m of list<SlackMessage>(n, v, SlackMessageSchema, 'messages')) {
        const first = where.get(m.ts);
        if (first !== undefined) {
          problem(n, `two messages have ts ${m.ts}${first === n ? '' : ` (the other in ${first})`}`);
          continue;
        }
        where.set(m.ts, n);
        all.push(m);
      }
    }
    all.sort((a, b) => Number(a.ts) - Number(b.ts) || a.ts.localeCompare(b.ts));
    days.set(c.name, all);
  }
  const { avatars, withAvatars, emoji } = readPictures(archive, users, parse, problem);
  return { users, avatars, withAvatars, emoji, conversations, days, problems };
}

const IMAGE_FILE = /\.(png|gif|jpe?g|webp)$/i;

/**
 * The export's pictures (slackdump's extensions of the format): `__avatars/<user id>/<file>` (the
 * file named as the user's `image_original`, else the folder's only file) and the custom emoji of
 * `emojis/` with their aliases from `index.json`. A standard Slack export has neither.
 */
function readPictures(
  archive: ExportArchive,
  users: SlackUser[],
  parse: (name: string) => unknown,
  problem: (file: string, reason: string) => void,
): { avatars: Map<string, string>; withAvatars: boolean; emoji: SlackEmoji[] } {
  const byUser = new Map<string, string[]>();
  const images = new Map<string, string>(); // emoji name → its file
  for (const k of archive.blobs.keys()) {
    const a = /^__avatars\/([^/]+)\/([^/]+)$/.exec(k);
    if (a) byUser.set(a[1] as string, [...(byUser.get(a[1] as string) ?? []), k]);
    const e = /^emojis\/([^/]+)$/.exec(k);
    if (e && IMAGE_FILE.test(e[1] as string)) images.set((e[1] as string).replace(IMAGE_FILE, ''), k);
  }
  const avatars = new Map<string, string>();
  for (const u of users) {
    const files = byUser.get(u.id);
    if (!files) continue;
    const named = u.profile?.image_original?.split(/[?#]/)[0]?.split('/').at(-1);
    const pick = files.find((f) => named && f.endsWith(`/${named}`)) ?? (files.length === 1 ? files[0] : undefined);
    if (pick) avatars.set(u.id, pick);
  }
  const aliases = new Map<string, string[]>(); // emoji name → its aliases
  const raw = archive.files.has('index.json') ? parse('index.json') : undefined;
  if (raw !== undefined && images.size > 0) {
    if (!Value.Check(EmojiIndexSchema, raw))
      problem('index.json', 'not an emoji index (names to URLs, `alias:<name>`, or objects with `aliases`)');
    else
      for (const [name, v] of Object.entries(raw as Record<string, string | { aliases?: string[] | null }>)) {
        if (typeof v === 'string') {
          const target = v.startsWith('alias:') ? v.slice('alias:'.length) : null;
          if (target) aliases.set(target, [...(aliases.get(target) ?? []), name]);
        } else for (const a of v.aliases ?? []) aliases.set(name, [...(aliases.get(name) ?? []), a]);
      }
  }
  const emoji = [...images]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, file]) => ({ name, file, aliases: [...new Set(aliases.get(name) ?? [])] }));
  return { avatars, withAvatars: byUser.size > 0, emoji };
}

function describe(v: unknown): string {
  if (v === undefined) return '';
  const s = JSON.stringify(v);
  return s === undefined ? '' : ` (got ${s.length > 40 ? `${s.slice(0, 40)}…` : s})`;
}

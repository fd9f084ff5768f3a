/**
 * Parley's own workspace format (docs/moving.md, "Moving out, or between servers"): what a
 * workspace export holds (parley-export.ts) and what `parley import parley` reads back
 * (parley.ts). One module owns it, so the writer and the reader cannot drift.
 *
 * A zip of:
 *
 *   manifest.json        {"format":"parley-workspace","version":1,"exported_at","workspace":{id,name},"counts":{kind: n}}
 *   settings.json        the workspace's settings: join policy, two-factor rule, upload rules, permissions, automod
 *   <kind>.jsonl         one row a line, for each kind of KINDS, parents before children
 *   claims.jsonl         {"user_id","email"}: the address each person had, whom an account with it may claim
 *   files/<id>/<name>    each file's bytes, under its id and its (sanitized) name
 *   thumbs/<id>/<size>   the thumbnails the media job made of it (WebP)
 *   emoji/<shortcode>    each custom emoji's image, as it is stored (PNG, GIF or WebP)
 *   pictures/<id>/<size> each rendition of a profile picture or the workspace's logo (WebP)
 *
 * A row is the table's columns by their database names (snake_case), without `app_id` (the
 * workspace is the target's) and without what only means something in one deployment (a read
 * mark's revision, a file's store key); times are ISO-8601 strings, JSON columns are JSON.
 *
 * Version history: 1 — the first (issue 59). 2 — the kinds marked `since: 2` (custom emoji, user groups, pictures, profile fields, bookmarks, saved items, tasks, sidebars…): a
 * version 1 archive has none of them, and reads as before; a server that reads only 1 refuses a 2
 * ("upgrade it first") rather than leave them behind unsaid. A reader refuses a version it does
 * not know.
 */
import {
  AutomodSettings,
  EmailVisibility,
  JoinPolicy,
  PermissionOverrides,
  registerFormats,
  UploadRules,
} from '@parley/protocol';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { schema } from '../../platform/db/index.js';

export const PARLEY_FORMAT = 'parley-workspace';
export const PARLEY_FORMAT_VERSION = 2;

/** A kind of row the format carries: its file (`<kind>.jsonl`), its table, its key. */
export interface Kind {
  kind: string;
  table: PgTable;
  /** Columns left out of the format (besides `app_id`), by database name. */
  omit: readonly string[];
  /** The row's identity (database names): two lines with the same key are a problem. */
  key: readonly string[];
  /** The format version that brought the kind (1 when absent): an older archive has none of it. */
  since?: number;
  /**
   * Columns (database names) that name a row of an earlier kind (its one-column key): each must
   * be in the archive (null: names nothing). The kinds of version 1 check theirs by hand.
   */
  refs?: Readonly<Record<string, string>>;
  /**
   * The column (one of `refs`) naming the row this one hangs on: it is imported only with that
   * row, so a row the target holds already keeps what hangs on it as it is.
   */
  parent?: string;
}

/** Every kind, in the order they are written and read: a row names only rows of kinds before it. */
export const KINDS = [
  { kind: 'users', table: schema.users, omit: [], key: ['id'] },
  { kind: 'channels', table: schema.channels, omit: [], key: ['cid'] },
  { kind: 'members', table: schema.members, omit: ['read_rev'], key: ['cid', 'user_id'] },
  { kind: 'messages', table: schema.messages, omit: [], key: ['id'] },
  { kind: 'message_versions', table: schema.messageVersions, omit: [], key: ['message_id', 'version'] },
  { kind: 'reactions', table: schema.reactions, omit: [], key: ['message_id', 'user_id', 'type'] },
  { kind: 'poll_votes', table: schema.pollVotes, omit: [], key: ['message_id', 'user_id', 'option_id'] },
  { kind: 'files', table: schema.files, omit: ['storage_key'], key: ['id'] },
  { kind: 'notes', table: schema.notes, omit: [], key: ['id'] },
  { kind: 'note_versions', table: schema.noteVersions, omit: [], key: ['note_id', 'version'] },
  // The image's id and key are the target's own (an image id is unique across the server).
  { kind: 'custom_emoji', table: schema.customEmoji, omit: ['image_id', 'storage_key'], key: ['shortcode'], since: 2 },
  // A group's handle shares the @names of people: one the target holds is renamed, as a username is.
  { kind: 'user_groups', table: schema.userGroups, omit: [], key: ['id'], since: 2 },
  {
    kind: 'user_group_members',
    table: schema.userGroupMembers,
    omit: [],
    key: ['group_id', 'user_id'],
    since: 2,
    refs: { group_id: 'user_groups', user_id: 'users' },
    parent: 'group_id',
  },
  // People's pictures and the logo: the renditions are entries (pictureEntry), their keys the target's.
  { kind: 'images', table: schema.images, omit: ['sizes'], key: ['id'], since: 2, refs: { user_id: 'users' } },
  // A field whose name the target has already is left out, with its values (names are unique).
  { kind: 'profile_fields', table: schema.profileFields, omit: [], key: ['id'], since: 2 },
  {
    kind: 'profile_field_values',
    table: schema.profileFieldValues,
    omit: [],
    key: ['field_id', 'user_id'],
    since: 2,
    refs: { field_id: 'profile_fields', user_id: 'users' },
    parent: 'field_id',
  },
  // A link's icon is the source's cached preview, not carried: the bookmark shows without it.
  {
    kind: 'channel_bookmarks',
    table: schema.channelBookmarks,
    omit: ['icon_url'],
    key: ['id'],
    since: 2,
    refs: { cid: 'channels', file_id: 'files' },
    parent: 'cid',
  },
  // A saved item's reminder is not carried (reminders are not): it stays saved, without one.
  {
    kind: 'saved_items',
    table: schema.savedItems,
    omit: ['reminder_id'],
    key: ['id'],
    since: 2,
    refs: { user_id: 'users', message_id: 'messages', cid: 'channels' },
    parent: 'message_id',
  },
  // A task's due reminder is not carried (reminders are not): it keeps its due time, without one.
  {
    kind: 'tasks',
    table: schema.tasks,
    omit: ['reminder_id'],
    key: ['id'],
    since: 2,
    refs: { message_id: 'messages', cid: 'channels', assignee_id: 'users', completed_by: 'users' },
    parent: 'message_id',
  },
  // Each person's sidebar, for a person new there (one the target has keeps their own).
  {
    kind: 'sidebar_sections',
    table: schema.sidebarSections,
    omit: [],
    key: ['id'],
    since: 2,
    refs: { user_id: 'users' },
    parent: 'user_id',
  },
  {
    kind: 'sidebar_placements',
    table: schema.sidebarPlacements,
    omit: [],
    key: ['user_id', 'cid'],
    since: 2,
    refs: { section_id: 'sidebar_sections', user_id: 'users', cid: 'channels' },
    parent: 'section_id',
  },
] as const satisfies readonly Kind[];

export type KindName = (typeof KINDS)[number]['kind'];

/** The manifest, as written and as checked when read. */
export const Manifest = Type.Object({
  format: Type.Literal(PARLEY_FORMAT),
  version: Type.Integer({ minimum: 1 }),
  exported_at: Type.String(),
  workspace: Type.Object({ id: Type.String(), name: Type.String() }),
  counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});
export type Manifest = Static<typeof Manifest>;

/** The file of people's addresses: who may claim whom on the other side (accounts/claims.ts). */
export const CLAIMS_FILE = 'claims.jsonl';
export const Claim = Type.Object(
  { user_id: Type.String({ minLength: 1 }), email: Type.String({ format: 'email', maxLength: 320 }) },
  { additionalProperties: false },
);
export type Claim = Static<typeof Claim>;

/** The workspace's settings that travel with it (the app's and the workspace's). */
export const Settings = Type.Object(
  {
    join_policy: JoinPolicy,
    join_domain: Type.Union([Type.String({ maxLength: 253 }), Type.Null()]),
    require_two_factor: Type.Boolean(),
    /** Absent in archives made before it existed: the workspace keeps its own. */
    email_visibility: Type.Optional(EmailVisibility),
    permissions: PermissionOverrides,
    automod: Type.Union([AutomodSettings, Type.Null()]),
    upload_rules: Type.Union([UploadRules, Type.Null()]),
  },
  { additionalProperties: false },
);
export type Settings = Static<typeof Settings>;

/** A column of a kind as the format has it: its property in the row, its database name and type. */
interface Col {
  prop: string;
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

const colsCache = new Map<PgTable, Col[]>();
function columnsOf(k: Kind): Col[] {
  let got = colsCache.get(k.table);
  if (!got) {
    got = Object.entries(getTableColumns(k.table))
      .filter(([, c]) => c.name !== 'app_id' && !k.omit.includes(c.name))
      .map(([prop, c]) => ({ prop, name: c.name, type: c.columnType, notNull: c.notNull, hasDefault: c.hasDefault }));
    colsCache.set(k.table, got);
  }
  return got;
}

/** A row of `k`'s table as one line of its file. */
export function encodeRow(k: Kind, row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const c of columnsOf(k)) {
    const v = row[c.prop];
    out[c.name] = v instanceof Date ? v.toISOString() : (v ?? null);
  }
  return JSON.stringify(out);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const INT32 = 2 ** 31 - 1;

/**
 * One line of `k`'s file as a row of its table (properties as the table has them, no `app_id`),
 * or why it is not one: a field missing, of the wrong type, or one the format does not have.
 */
export function decodeRow(k: Kind, line: unknown): { row: Record<string, unknown> } | { problem: string } {
  if (!line || typeof line !== 'object' || Array.isArray(line)) return { problem: 'not a JSON object' };
  const obj = line as Record<string, unknown>;
  const cols = columnsOf(k);
  const known = new Set(cols.map((c) => c.name));
  const extra = Object.keys(obj).find((n) => !known.has(n));
  if (extra) return { problem: `unknown field "${extra}"` };
  const row: Record<string, unknown> = {};
  for (const c of cols) {
    const v = obj[c.name];
    if (v === undefined || v === null) {
      if (!c.notNull) row[c.prop] = null;
      else if (!c.hasDefault) return { problem: `"${c.name}" is missing` };
      continue;
    }
    const bad = (what: string) => ({ problem: `"${c.name}" must be ${what}` });
    switch (c.type) {
      case 'PgTimestamp':
        if (typeof v !== 'string' || !ISO.test(v) || Number.isNaN(Date.parse(v))) return bad('an ISO-8601 time');
        row[c.prop] = new Date(v);
        break;
      case 'PgUUID':
        if (typeof v !== 'string' || !UUID.test(v)) return bad('a UUID');
        row[c.prop] = v.toLowerCase();
        break;
      case 'PgText':
        if (typeof v !== 'string' || v.includes('\0')) return bad('a string');
        row[c.prop] = v;
        break;
      case 'PgInteger':
        if (!Number.isInteger(v) || Math.abs(v as number) > INT32) return bad('a 32-bit integer');
        row[c.prop] = v;
        break;
      case 'PgBigInt53':
        if (!Number.isSafeInteger(v)) return bad('an integer');
        row[c.prop] = v;
        break;
      case 'PgBoolean':
        if (typeof v !== 'boolean') return bad('true or false');
        row[c.prop] = v;
        break;
      case 'PgJsonb':
        row[c.prop] = v;
        break;
      default:
        throw new Error(`parley format: no rule for column type ${c.type} (${k.kind}.${c.name})`);
    }
  }
  return { row };
}

/** The property of `k`'s rows that holds its column `name` (a database name). */
export function propOf(k: Kind, name: string): string {
  const c = columnsOf(k).find((x) => x.name === name);
  if (!c) throw new Error(`parley format: ${k.kind} has no column ${name}`);
  return c.prop;
}

/** The key of a decoded row of `k`, as one string. */
export function keyOf(k: Kind, row: Record<string, unknown>): string {
  const cols = columnsOf(k);
  return k.key.map((n) => String(row[(cols.find((c) => c.name === n) as Col).prop])).join('\n');
}

/** The first thing wrong with `value` against `schema`, as "path: message", or null. */
export function schemaProblem(s: TSchema, value: unknown): string | null {
  registerFormats();
  const first = Value.Errors(s, value).First();
  return first ? `${first.path || '/'}: ${first.message}` : null;
}

/** The entry of a file's bytes. */
export const fileEntry = (id: string, name: string) => `files/${id}/${name}`;
/** The entry of a file's thumbnail of one size. */
export const thumbEntry = (id: string, size: string) => `thumbs/${id}/${size}`;
/** The entry of one rendition (`size` px) of a picture. */
export const pictureEntry = (id: string, size: string | number) => `pictures/${id}/${size}`;
/** The entry of a custom emoji's image. */
export const emojiEntry = (shortcode: string) => `emoji/${shortcode}`;
/** A thumbnail's key in the store, beside its file's (as the media job keys them). */
export const thumbKey = (storageKey: string, size: string) => `${storageKey}.t${size}`;

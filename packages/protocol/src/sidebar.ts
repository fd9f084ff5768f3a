/**
 * A user's own sidebar and saved items (server: features/sidebar; docs/protocol/team-features.md, "Sidebar
 * sections" and "Saved items"). Both belong to one user and reach only that user's
 * connections: `sidebar.updated` carries the whole sidebar as it now stands (it is small — at
 * most 50 sections — so a client replaces what it had instead of applying a diff), and
 * `saved.updated` carries one saved item and what happened to it.
 *
 * A sidebar lists only channels the user is a member of: a channel they left, or were removed
 * from, drops out of its section (and out of every event) without a trace.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Message } from './entities.js';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { NameText, SafeText } from './text.js';

/** How a section orders its channels: as dragged, by name, or most recent activity first. */
export const SIDEBAR_SORTS = ['manual', 'name', 'recent'] as const;
export const SidebarSort = Type.Union(SIDEBAR_SORTS.map((s) => Type.Literal(s)));
export type SidebarSort = Static<typeof SidebarSort>;

/** The most sections one user may have (the built-in Starred one included). */
export const MAX_SIDEBAR_SECTIONS = 50;

/** One section: `custom` (made by the user) or the built-in `starred` (made on the first star). */
export const SidebarSection = Type.Object({
  id: Uuid,
  kind: Type.Union([Type.Literal('custom'), Type.Literal('starred')]),
  name: Type.String(),
  /** 0-based place among the user's sections. */
  position: Type.Integer({ minimum: 0 }),
  collapsed: Type.Boolean(),
  sort: SidebarSort,
  /** The channels placed here, in their manual order (a client applies `sort` itself). */
  cids: Type.Array(Cid),
});
export type SidebarSection = Static<typeof SidebarSection>;

/** A user's sidebar: their sections in order. Channels in none fall into the default groups. */
export const Sidebar = Type.Object({ sections: Type.Array(SidebarSection) });
export type Sidebar = Static<typeof Sidebar>;
export const SidebarResponse = Type.Object({ sidebar: Sidebar });
export type SidebarResponse = Static<typeof SidebarResponse>;

export const CreateSectionBody = Type.Object(
  {
    name: NameText({ maxLength: 80 }),
    /** Where among the sections (default: last). */
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SIDEBAR_SECTIONS })),
  },
  { additionalProperties: false },
);
export type CreateSectionBody = Static<typeof CreateSectionBody>;

export const UpdateSectionBody = Type.Object(
  {
    name: Type.Optional(NameText({ maxLength: 80 })),
    collapsed: Type.Optional(Type.Boolean()),
    sort: Type.Optional(SidebarSort),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSectionBody = Static<typeof UpdateSectionBody>;

/** The new order of sections: every one of the user's section ids, each once. */
export const ReorderSectionsBody = Type.Object(
  { section_ids: Type.Array(Uuid, { maxItems: MAX_SIDEBAR_SECTIONS, uniqueItems: true }) },
  { additionalProperties: false },
);
export type ReorderSectionsBody = Static<typeof ReorderSectionsBody>;

/**
 * Put a channel (one the caller is a member of) into a section at `position` (default: last),
 * or back into its default group with `section_id: null`.
 */
export const PlaceChannelBody = Type.Object(
  {
    section_id: Type.Union([Uuid, Type.Null()]),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
export type PlaceChannelBody = Static<typeof PlaceChannelBody>;

/** What happened to a saved item. */
export const SAVED_CHANGES = ['saved', 'updated', 'removed'] as const;

/** Longest note on a saved item. */
export const SAVED_NOTE_MAX_LENGTH = 500;
const SavedNote = SafeText({ maxLength: SAVED_NOTE_MAX_LENGTH });

/** A message the user saved, with its optional reminder. */
export const SavedItem = Type.Object({
  id: Uuid,
  user_id: UserId,
  message_id: Uuid,
  cid: Cid,
  status: Type.Union([Type.Literal('saved'), Type.Literal('completed')]),
  /** The reminder of its due time (features/reminders), when it has one. */
  reminder_id: Type.Union([Uuid, Type.Null()]),
  /** When the reminder fires next (null: no due time, or it fired and does not repeat). */
  due_at: Type.Union([Timestamp, Type.Null()]),
  repeat: Type.Union([Type.Literal('daily'), Type.Literal('weekdays'), Type.Literal('weekly'), Type.Null()]),
  /** The user's own short note on the item (null: none). */
  note: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  completed_at: Type.Union([Timestamp, Type.Null()]),
  /** The message (absent from events; null when it is gone). */
  message: Type.Optional(Type.Union([Message, Type.Null()])),
});
export type SavedItem = Static<typeof SavedItem>;

/** Save a message you can read; a due time (`remind_at` or `in`) makes a reminder. */
export const SaveMessageBody = Type.Object(
  {
    message_id: Uuid,
    remind_at: Type.Optional(Timestamp),
    in: Type.Optional(Type.String({ pattern: '^(tomorrow|[1-9][0-9]{0,4}[mhd])$' })),
    tz_offset: Type.Optional(Type.Integer({ minimum: -840, maximum: 840 })),
    repeat: Type.Optional(Type.Union([Type.Literal('daily'), Type.Literal('weekdays'), Type.Literal('weekly')])),
    /** A short private note on the item (saving again with one replaces it). */
    note: Type.Optional(SavedNote),
  },
  { additionalProperties: false },
);
export type SaveMessageBody = Static<typeof SaveMessageBody>;

/** Complete an item or mark it not done (`status`), and/or set or clear (`null`, `""`) its `note`. */
export const UpdateSavedBody = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('saved'), Type.Literal('completed')])),
    note: Type.Optional(Type.Union([SavedNote, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateSavedBody = Static<typeof UpdateSavedBody>;

export const SavedItemResponse = Type.Object({ saved_item: SavedItem });
export const SavedItemsResponse = Type.Object({
  saved_items: Type.Array(SavedItem),
  /** Pass as `cursor` for the next (older) page; absent on the last one. */
  next: Type.Optional(Type.String()),
});
export type SavedItemsResponse = Static<typeof SavedItemsResponse>;

/** The query of `GET /v1/saved` (and `saved.list`). */
export const SavedQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('saved'), Type.Literal('completed')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type SavedQuery = Static<typeof SavedQuery>;

/**
 * The fields of the sidebar's and saved items' socket requests (frames.ts wraps them with
 * `type` and `req_id`): each runs the action of the REST route named beside it.
 */
export const SIDEBAR_REQUEST_FIELDS = {
  /** My sidebar, as `GET /v1/me/sidebar`. */
  'sidebar.get': {},
  /** As `POST /v1/me/sidebar/sections`. */
  'sidebar.section.create': CreateSectionBody.properties,
  /** As `PATCH /v1/me/sidebar/sections/{id}` (at least one of `name`, `collapsed`, `sort`). */
  'sidebar.section.update': { id: Uuid, ...UpdateSectionBody.properties },
  /** As `DELETE /v1/me/sidebar/sections/{id}`. */
  'sidebar.section.delete': { id: Uuid },
  /** As `PUT /v1/me/sidebar/order`. */
  'sidebar.reorder': ReorderSectionsBody.properties,
  /** As `PUT /v1/me/sidebar/channels/{cid}`. */
  'sidebar.place': { cid: Cid, ...PlaceChannelBody.properties },
  /** As `PUT /v1/me/starred/{cid}` (`starred: false`: `DELETE`). */
  'sidebar.star': { cid: Cid, starred: Type.Optional(Type.Boolean()) },
  /** As `POST /v1/saved`. */
  'saved.create': SaveMessageBody.properties,
  /** As `GET /v1/saved`. */
  'saved.list': SavedQuery.properties,
  /** As `PATCH /v1/saved/{id}`. */
  'saved.update': { id: Uuid, ...UpdateSavedBody.properties },
  /** As `DELETE /v1/saved/{id}`. */
  'saved.remove': { id: Uuid },
} as const;

/** The sidebar and saved-item events (events.ts joins them to the live-only events). */
export const SidebarEvents = [
  /** To the user's own connections: their sidebar as it now stands. */
  Type.Object({ type: Type.Literal('sidebar.updated'), sidebar: Sidebar, created_at: Timestamp }),
  /** To the user's own connections: a saved item was saved, changed or removed. */
  Type.Object({
    type: Type.Literal('saved.updated'),
    change: Type.Union(SAVED_CHANGES.map((c) => Type.Literal(c))),
    saved_item: SavedItem,
    created_at: Timestamp,
  }),
] as const;

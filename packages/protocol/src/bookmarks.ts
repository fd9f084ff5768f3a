/**
 * Channel bookmarks and a channel's files (server: features/bookmarks; docs/protocol/files.md,
 * "Channel bookmarks"). Bookmarks are links and files pinned to the channel's header bar by
 * members who have `manage-bookmarks`; a link's title, site and icon come from the link
 * preview pipeline. `bookmarks.updated` (live only) carries a channel's whole bar, in order, to
 * its subscribers after every change.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Attachment, AttachmentKind } from './attachments.js';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { NameText } from './text.js';

/** The most bookmarks one channel may have. */
export const MAX_BOOKMARKS = 50;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** One bookmark of a channel's header bar. */
export const ChannelBookmark = Type.Object({
  id: Uuid,
  cid: Cid,
  kind: Type.Union([Type.Literal('link'), Type.Literal('file')]),
  /** The link (a link), or the file's path (a file: `/v1/files/{id}`, with credentials). */
  url: Type.String(),
  file_id: Nullable(Uuid),
  title: Type.String(),
  site_name: Nullable(Type.String()),
  /** A small picture for the link (the preview's re-hosted image), when it has one. */
  icon_url: Nullable(Type.String()),
  position: Type.Integer({ minimum: 0 }),
  created_by: UserId,
  created_at: Timestamp,
});
export type ChannelBookmark = Static<typeof ChannelBookmark>;

/** A link (`url`, http or https) or a file shared in the channel (`file_id`), and an optional title. */
export const CreateBookmarkBody = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, pattern: '^https?://[^\\s]+$' })),
    file_id: Type.Optional(Uuid),
    title: Type.Optional(NameText({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CreateBookmarkBody = Static<typeof CreateBookmarkBody>;

export const UpdateBookmarkBody = Type.Object({ title: NameText({ maxLength: 200 }) }, { additionalProperties: false });
export type UpdateBookmarkBody = Static<typeof UpdateBookmarkBody>;

/** Every bookmark id of the channel, each once, in the new order. */
export const ReorderBookmarksBody = Type.Object(
  { bookmark_ids: Type.Array(Uuid, { maxItems: MAX_BOOKMARKS, uniqueItems: true }) },
  { additionalProperties: false },
);
export type ReorderBookmarksBody = Static<typeof ReorderBookmarksBody>;

export const BookmarkParams = Type.Object({ cid: Cid, bookmark_id: Uuid });
export const BookmarksResponse = Type.Object({ bookmarks: Type.Array(ChannelBookmark) });
export type BookmarksResponse = Static<typeof BookmarksResponse>;

/** A channel's files: every file shared in a message there, newest first, optionally of one kind. */
export const ChannelFilesQuery = Type.Object(
  {
    kind: Type.Optional(AttachmentKind),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
export type ChannelFilesQuery = Static<typeof ChannelFilesQuery>;
export const ChannelFilesResponse = Type.Object({
  files: Type.Array(Attachment),
  /** Pass as `cursor` for the next (older) page; absent on the last. */
  next: Type.Optional(Uuid),
});
export type ChannelFilesResponse = Static<typeof ChannelFilesResponse>;

/** The bookmark event (events.ts joins it to the live-only events). */
export const BookmarkEvents = [
  /** To the channel's subscribers: its bookmarks as they now stand, in order. */
  Type.Object({
    type: Type.Literal('bookmarks.updated'),
    cid: Cid,
    bookmarks: Type.Array(ChannelBookmark),
    created_at: Timestamp,
  }),
] as const;

/**
 * Notes (issue #36): personal notes — a private scratchpad per user, several titled Markdown
 * documents — and channel notes, documents that belong to a channel (like canvases), read by
 * whoever may read the channel and edited per the `edit-channel-notes` permission.
 *
 * Concurrent edits: every update names the version it was based on (`base_version`). When the
 * note moved on since, the server merges line by line (a three-way merge against the base
 * version's text); edits that touch different lines merge, overlapping ones are refused with
 * CONFLICT, whose `details` is a `NoteConflict` (the current note and the caller's text) so a
 * client can show both and ask.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Timestamp, UserId, Uuid } from './ids.js';
import { NameText, SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Longest note text, in characters. */
export const NOTE_MAX_LENGTH = 100_000;
/** Longest note title. */
export const NOTE_TITLE_MAX_LENGTH = 200;

const Title = NameText({ maxLength: NOTE_TITLE_MAX_LENGTH });
const Body = SafeText({ maxLength: NOTE_MAX_LENGTH });

/** A note: personal (`owner_id` set, `cid` null) or of a channel (`cid` set, `owner_id` null). */
export const Note = Type.Object({
  id: Uuid,
  cid: Nullable(Cid),
  owner_id: Nullable(UserId),
  title: Type.String(),
  text: Type.String(),
  /** Counts edits from 1; an update names the version it started from. */
  version: Type.Integer({ minimum: 1 }),
  created_by: UserId,
  updated_by: UserId,
  created_at: Timestamp,
  updated_at: Timestamp,
  deleted_at: Nullable(Timestamp),
});
export type Note = Static<typeof Note>;

/** One kept version of a note: who wrote it and what it said. */
export const NoteVersion = Type.Object({
  note_id: Uuid,
  version: Type.Integer({ minimum: 1 }),
  title: Type.String(),
  text: Type.String(),
  user_id: UserId,
  /** The server merged this edit with others made since its base version. */
  merged: Type.Boolean(),
  created_at: Timestamp,
});
export type NoteVersion = Static<typeof NoteVersion>;

/** `POST /v1/notes`: a personal note, or a channel note with `cid`. */
export const CreateNoteBody = Type.Object(
  {
    id: Type.Optional(Uuid),
    cid: Type.Optional(Cid),
    title: Title,
    text: Type.Optional(Body),
  },
  { additionalProperties: false },
);
export type CreateNoteBody = Static<typeof CreateNoteBody>;

/** `PATCH /v1/notes/{id}`: new title and/or text, based on `base_version`. */
export const UpdateNoteBody = Type.Object(
  {
    base_version: Type.Integer({ minimum: 1 }),
    title: Type.Optional(Title),
    text: Type.Optional(Body),
  },
  { additionalProperties: false },
);
export type UpdateNoteBody = Static<typeof UpdateNoteBody>;

/** `GET /v1/notes`: my personal notes, or a channel's with `cid`; `q` searches title and text. */
export const NotesQuery = Type.Object(
  {
    cid: Type.Optional(Cid),
    q: Type.Optional(SafeText({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type NotesQuery = Static<typeof NotesQuery>;

/** `GET /v1/notes/search?q=`: notes the caller may read (theirs and their readable channels'). */
export const NoteSearchQuery = Type.Object(
  {
    q: SafeText({ minLength: 1, maxLength: 200 }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type NoteSearchQuery = Static<typeof NoteSearchQuery>;

export const NoteVersionParams = Type.Object({ id: Uuid, version: Type.Integer({ minimum: 1 }) });

export const NoteResponse = Type.Object({
  note: Note,
  /** On an update: true when the server merged it with edits made since `base_version`. */
  merged: Type.Optional(Type.Boolean()),
});
export type NoteResponse = Static<typeof NoteResponse>;
export const NotesResponse = Type.Object({ notes: Type.Array(Note) });
export type NotesResponse = Static<typeof NotesResponse>;
export const NoteVersionsResponse = Type.Object({ versions: Type.Array(NoteVersion) });
export type NoteVersionsResponse = Static<typeof NoteVersionsResponse>;
export const NoteVersionResponse = Type.Object({ version: NoteVersion });
export type NoteVersionResponse = Static<typeof NoteVersionResponse>;

/** The `details` of a CONFLICT refusing an update: the note as it stands and the caller's text. */
export const NoteConflict = Type.Object({
  note: Note,
  base_version: Type.Integer(),
  /** The text the caller sent. */
  text: Type.String(),
  title: Type.String(),
});
export type NoteConflict = Static<typeof NoteConflict>;

/**
 * Events: `note.updated` / `note.deleted` to a channel's subscribers (members and watchers) for
 * its notes; `personal_note.updated` / `personal_note.deleted` to the owner's own connections.
 * Live only (no seq): a client that was away reads the notes again.
 */
/**
 * Whether the caller follows a channel's notes (`GET`, `PUT` and `DELETE
 * /v1/channels/{cid}/notes/subscription`): a follower gets an inbox item (`note_updated`) when
 * someone else makes or edits a note there — at most one per note every ten minutes.
 */
export const NoteSubscriptionResponse = Type.Object({ cid: Cid, subscribed: Type.Boolean() });
export type NoteSubscriptionResponse = Static<typeof NoteSubscriptionResponse>;

export const NoteEvents = [
  Type.Object({
    type: Type.Union([Type.Literal('note.updated'), Type.Literal('note.deleted')]),
    cid: Cid,
    note: Note,
    created_at: Timestamp,
  }),
  Type.Object({
    type: Type.Union([Type.Literal('personal_note.updated'), Type.Literal('personal_note.deleted')]),
    note: Note,
    created_at: Timestamp,
  }),
] as const;

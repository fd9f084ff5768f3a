/**
 * Version of the wire protocol spoken between Parley servers and clients.
 *
 * History (bump on any change a deployed client could notice; never reuse a number):
 * - 1 (2026-11): first public contract: apps, users, channels, messages, threads,
 *   reactions, reads, typing, presence, per-channel seq and event replay.
 * - 2 (2026-11): presence by subscription: `presence.changed` about other users reaches only
 *   connections that sent `presence.subscribe` for them (a user's own changes still reach all
 *   of their connections); `channel.watch {since}` answers without `members`, which
 *   `channel.members` pages; close code 4006 `OVERLOADED` with `retry_after_ms=N`. Added in
 *   the same release: message `attachments`, `search.messages`, `around=<seq>`; for the web
 *   app's accounts, two-factor sign-in (a sign-in may answer a challenge) and sessions;
 *   later, additive: message `previews` and the `preview.remove` request; sign-in with an
 *   OpenID Connect provider (`/v1/auth/oidc/*`, `oidc` in the auth options); workspace guests
 *   (the `guest.updated` event, the `GUEST_LOCKED` error, role `guest`), join policies
 *   `request` and `domain` with `join_domain`, join requests and the transfer of ownership; permissions and moderation
 *   (`own_capabilities` and the channel settings `frozen`, `slow_mode_s`, `reactions`; the
 *   `user.banned`, `flag.new`, `flag.reviewed` events; `BANNED`, `MESSAGE_BLOCKED`; close 4503);
 *   calls (`call.*` requests, the `call.ring`, `call.updated` and `call.signal` events, the
 *   `CALL_*` and `NOT_IN_CALL` errors, `/v1/calls`); spaces, the virtual office (`space.*` and `spaces.*` requests, the
 *   `space.updated` and `space.invitation` events, `SPACE_FULL`, `/v1/spaces`, the optional
 *   `space_id` of `presence.changed` and `spaces` of the `presence.subscribe` reply); profiles
 *   (the user's `full_name`, `title`, `pronouns`, `about`, `phone`, `time_zone`, `fields`,
 *   custom profile fields, `/v1/usernames/{name}`, the `user.updated` event).
 *   Later, additive (read-by and where you were): member `last_read_at`,
 *   `GET /v1/messages/{id}/read-by`, `GET`/`PUT /v1/me/last-channel` (and the socket's `last_channel.set`), and
 *   `POST /v1/channels/{cid}/system-messages` for server tokens. Later, additive: user groups (`/v1/user-groups`,
 *   `user_group.updated`) and the activity inbox (`/v1/inbox`, `inbox.updated`).
 *   Later, additive (sidebar sections and saved items): `/v1/me/sidebar*`, the
 *   `sidebar.updated` and `saved.updated` events, `/v1/saved*`, reminder `repeat` and
 *   `POST /v1/reminders/{id}/snooze`; channel bookmarks (`/v1/channels/{cid}/bookmarks*`, the
 *   `bookmarks.updated` event, the `manage-bookmarks` capability) and `GET /v1/channels/{cid}/files`.
 *   Later, additive: the `sidebar.*` and `saved.*` socket requests; the inbox kind
 *   `note_mention` with the item's `note_id` (and `note_title`, in lists and later live), `removed` in
 *   `inbox.updated`, and the `inbox.new` webhook event.
 *   Later, additive: `GET`/`PATCH /v1/me/privacy` (`hide_read_receipts`: a hidden reader's
 *   mark shows others as 0 in member lists, and they are in no read-by list).
 *   Later, additive: `first_message` on `POST /v1/channels` (a group and its first message in
 *   one step; `message` in its answer, `last_message` and counts in that `channel.added`) and
 *   the `GROUP_TOO_SMALL` error.
 *   Later, additive: unread counts the server pushes (`unread.updated` to every connection of
 *   the user, ordered by `rev`) and `rev` in `GET /v1/me`'s `unread`.
 *   Later, additive: tasks from messages (`/v1/tasks`, `/v1/me/tasks`, `/v1/channels/{cid}/tasks`,
 *   the `task.*` requests, the `task.created`, `task.updated` and `task.deleted` events), the
 *   inbox kinds `task` and `note_updated` and the filter `tasks`, a saved item's `note`, and
 *   following a channel's notes (`/v1/channels/{cid}/notes/subscription`, `note.subscribe`).
 *   Later, additive: the connecting user's evaluated feature flags in the hello (`flags`), and
 *   their value of the changed flag in `feature_flags.updated` (`value`); deleting a message
 *   deletes its task; `smart_replies_mode` in the assistant's settings and `GET /v1/me/assistant`.
 *   Later, additive: the app-wide `assistant.updated` event (what the assistant offers now,
 *   after its admins change it).
 *   Migration: docs/protocol/versions.md, "Protocol version 2".
 */
export const PROTOCOL_VERSION = 2;

/**
 * Message search: the query a client sends (`GET /v1/search/messages`, the `search.messages`
 * socket request) and the hits it gets back. The query language itself (`from:@ann in:#general
 * "exact phrase" has:link before:2026-01-01 …`) is parsed by the server in one place and
 * documented in docs/protocol/search.md; clients send the text as the user typed it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Message } from './entities.js';
import { ChannelType, Cid } from './ids.js';
import { SafeText } from './text.js';

export const SEARCH_SORTS = ['relevance', 'newest'] as const;
export const SearchSort = Type.Union(SEARCH_SORTS.map((s) => Type.Literal(s)));
export type SearchSort = Static<typeof SearchSort>;

/** At most this many hits in one page. */
export const SEARCH_MAX_LIMIT = 50;

const searchFields = {
  /** The query as the user typed it, operators included. */
  q: SafeText({ minLength: 1, maxLength: 500 }),
  sort: Type.Optional(SearchSort),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_MAX_LIMIT })),
  /** `next` of the previous page; opaque. */
  cursor: Type.Optional(SafeText({ maxLength: 500 })),
};

export const SearchMessagesQuery = Type.Object(searchFields, { additionalProperties: false });
export type SearchMessagesQuery = Static<typeof SearchMessagesQuery>;
/** The fields of the `search.messages` socket request (beside `type` and `req_id`). */
export const SEARCH_REQUEST_FIELDS = searchFields;

/** The channel a hit lives in, enough to label it and open it. */
export const SearchChannel = Type.Object({
  cid: Cid,
  type: ChannelType,
  name: Type.Union([Type.String(), Type.Null()]),
});

export const SearchHit = Type.Object({
  message: Message,
  channel: SearchChannel,
  /**
   * The message's best fragment(s), HTML-escaped, with each match wrapped in `<mark>…</mark>`.
   * Nothing else in it is markup: it may be set as innerHTML.
   */
  highlight: Type.String(),
});
export type SearchHit = Static<typeof SearchHit>;

export const SearchMessagesResponse = Type.Object({
  results: Type.Array(SearchHit),
  /** Cursor of the next page, or null on the last. */
  next: Type.Union([Type.String(), Type.Null()]),
});
export type SearchMessagesResponse = Static<typeof SearchMessagesResponse>;

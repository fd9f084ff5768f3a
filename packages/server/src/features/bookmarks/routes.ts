/** Channel bookmarks and a channel's files over REST. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BookmarkParams,
  BookmarksResponse,
  ChannelBookmark,
  ChannelFilesQuery,
  ChannelFilesResponse,
  CidParams,
  CreateBookmarkBody,
  ErrorBody,
  ReorderBookmarksBody,
  UpdateBookmarkBody,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { callerOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import {
  addBookmark,
  listBookmarks,
  listChannelFiles,
  removeBookmark,
  renameBookmark,
  reorderBookmarks,
} from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const BookmarkResponse = Type.Object({ bookmark: ChannelBookmark });
const live = 'Needs `manage-bookmarks`; `bookmarks.updated` carries the whole bar to the channel.';

export function bookmarkRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'any' as const };
    const tags = ['channels'];
    app.get(
      '/v1/channels/:cid/bookmarks',
      {
        config,
        schema: {
          tags,
          summary: "The channel's header bookmarks, in order (whoever may read the channel)",
          params: CidParams,
          response: { 200: BookmarksResponse, ...errors },
        },
      },
      async (req) => ({ bookmarks: await listBookmarks(svc, callerOf(req), req.params.cid) }),
    );
    app.post(
      '/v1/channels/:cid/bookmarks',
      {
        config,
        schema: {
          tags,
          summary: 'Bookmark a link (`url`) or a file shared in the channel (`file_id`), last in the bar',
          description: `${live} A link's title (unless given), site and icon follow from its preview.`,
          params: CidParams,
          body: CreateBookmarkBody,
          response: { 201: BookmarkResponse, ...errors },
        },
      },
      async (req, reply) =>
        reply.status(201).send({ bookmark: await addBookmark(svc, callerOf(req), req.params.cid, req.body) }),
    );
    app.patch(
      '/v1/channels/:cid/bookmarks/:bookmark_id',
      {
        config,
        schema: {
          tags,
          summary: 'Rename a bookmark',
          description: live,
          params: BookmarkParams,
          body: UpdateBookmarkBody,
          response: { 200: BookmarkResponse, ...errors },
        },
      },
      async (req) => ({
        bookmark: await renameBookmark(svc, callerOf(req), req.params.cid, req.params.bookmark_id, req.body.title),
      }),
    );
    app.delete(
      '/v1/channels/:cid/bookmarks/:bookmark_id',
      {
        config,
        schema: {
          tags,
          summary: 'Remove a bookmark (answers the bar as it now is)',
          description: live,
          params: BookmarkParams,
          response: { 200: BookmarksResponse, ...errors },
        },
      },
      async (req) => ({
        bookmarks: await removeBookmark(svc, callerOf(req), req.params.cid, req.params.bookmark_id),
      }),
    );
    app.put(
      '/v1/channels/:cid/bookmarks/order',
      {
        config,
        schema: {
          tags,
          summary: 'Reorder the bar: `bookmark_ids` names every bookmark of the channel, each once',
          description: live,
          params: CidParams,
          body: ReorderBookmarksBody,
          response: { 200: BookmarksResponse, ...errors },
        },
      },
      async (req) => ({ bookmarks: await reorderBookmarks(svc, callerOf(req), req.params.cid, req.body) }),
    );
    app.get(
      '/v1/channels/:cid/files',
      {
        config,
        schema: {
          tags: ['files'],
          summary: "The channel's Files tab: every file shared there, newest first, of one `kind` if asked",
          description: 'For those who may download them (members; the server token).',
          params: CidParams,
          querystring: ChannelFilesQuery,
          response: { 200: ChannelFilesResponse, ...errors },
        },
      },
      async (req) => listChannelFiles(svc, callerOf(req), req.params.cid, req.query),
    );
  };
}

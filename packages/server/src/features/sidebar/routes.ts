/** Sidebar sections and saved items over REST: the user's own, so every route needs a user token. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  CreateSectionBody,
  ErrorBody,
  IdParams,
  PlaceChannelBody,
  ReorderSectionsBody,
  SavedItemResponse,
  SavedItemsResponse,
  SavedQuery,
  SaveMessageBody,
  SidebarResponse,
  UpdateSavedBody,
  UpdateSectionBody,
} from '@parley/protocol';
import { userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import {
  createSection,
  deleteSection,
  getSidebar,
  placeChannel,
  reorderSections,
  starChannel,
  unstarChannel,
  updateSection,
} from './actions.js';
import { listSaved, removeSaved, saveMessage, updateSaved } from './saved.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const live = 'Answers the whole sidebar; `sidebar.updated` carries it to every connection of the user.';

export function sidebarRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'user' as const };
    const tags = ['sidebar'];
    app.get(
      '/v1/me/sidebar',
      {
        config,
        schema: {
          tags,
          summary: 'My sidebar sections, in order, each with the channels and DMs placed in it',
          description: 'Channels in no section belong to the default Channels / Direct messages groups.',
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await getSidebar(svc, userOf(req)) }),
    );
    app.post(
      '/v1/me/sidebar/sections',
      {
        config,
        schema: {
          tags,
          summary: 'Make a sidebar section (at most 50)',
          description: live,
          body: CreateSectionBody,
          response: { 201: SidebarResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send({ sidebar: await createSection(svc, userOf(req), req.body) }),
    );
    app.patch(
      '/v1/me/sidebar/sections/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Rename, collapse or expand a section, or change its sort (manual, name, recent)',
          description: live,
          params: IdParams,
          body: UpdateSectionBody,
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await updateSection(svc, userOf(req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/me/sidebar/sections/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Remove a section; its channels go back to their default group',
          description: live,
          params: IdParams,
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await deleteSection(svc, userOf(req), req.params.id) }),
    );
    app.put(
      '/v1/me/sidebar/order',
      {
        config,
        schema: {
          tags,
          summary: 'Reorder the sections: `section_ids` names every one of mine, each once',
          description: live,
          body: ReorderSectionsBody,
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await reorderSections(svc, userOf(req), req.body) }),
    );
    app.put(
      '/v1/me/sidebar/channels/:cid',
      {
        config,
        schema: {
          tags,
          summary: 'Place a channel or DM I am a member of in a section (at `position`), or back in its group (`null`)',
          description: live,
          params: CidParams,
          body: PlaceChannelBody,
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await placeChannel(svc, userOf(req), req.params.cid, req.body) }),
    );
    app.put(
      '/v1/me/starred/:cid',
      {
        config,
        schema: {
          tags,
          summary: 'Star a channel: it moves to the built-in Starred section (made on the first star)',
          description: live,
          params: CidParams,
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await starChannel(svc, userOf(req), req.params.cid) }),
    );
    app.delete(
      '/v1/me/starred/:cid',
      {
        config,
        schema: {
          tags,
          summary: 'Unstar a channel: back to its default group',
          description: live,
          params: CidParams,
          response: { 200: SidebarResponse, ...errors },
        },
      },
      async (req) => ({ sidebar: await unstarChannel(svc, userOf(req), req.params.cid) }),
    );

    const savedTags = ['saved'];
    app.post(
      '/v1/saved',
      {
        config,
        schema: {
          tags: savedTags,
          summary: 'Save a message I can read, with an optional due time (a reminder) and `repeat`',
          description:
            'Saving a message already saved updates that item (201 either way). `saved.updated` reaches every connection of the user.',
          body: SaveMessageBody,
          response: { 201: SavedItemResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send({ saved_item: await saveMessage(svc, userOf(req), req.body) }),
    );
    app.get(
      '/v1/saved',
      {
        config,
        schema: {
          tags: savedTags,
          summary: 'My saved items, newest first, paged (`next` → `cursor`)',
          description: 'Only items whose channel I may still read.',
          querystring: SavedQuery,
          response: { 200: SavedItemsResponse, ...errors },
        },
      },
      async (req) => listSaved(svc, userOf(req), req.query),
    );
    app.patch(
      '/v1/saved/:id',
      {
        config,
        schema: {
          tags: savedTags,
          summary:
            'Complete a saved item (cancels its pending reminder) or mark it not done, and/or set or clear its note',
          params: IdParams,
          body: UpdateSavedBody,
          response: { 200: SavedItemResponse, ...errors },
        },
      },
      async (req) => ({ saved_item: await updateSaved(svc, userOf(req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/saved/:id',
      {
        config,
        schema: {
          tags: savedTags,
          summary: 'Remove a saved item (cancels its pending reminder)',
          params: IdParams,
          response: { 200: SavedItemResponse, ...errors },
        },
      },
      async (req) => ({ saved_item: await removeSaved(svc, userOf(req), req.params.id) }),
    );
  };
}

/** Notes over REST: personal notes, channel notes, their history and search (actions.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  CreateNoteBody,
  ErrorBody,
  IdParams,
  NoteResponse,
  NoteSearchQuery,
  NoteSubscriptionResponse,
  NotesQuery,
  NotesResponse,
  NoteVersionParams,
  NoteVersionResponse,
  NoteVersionsResponse,
  UpdateNoteBody,
} from '@parley/protocol';
import { userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import {
  createNote,
  deleteNote,
  editNote,
  getNote,
  getVersion,
  listNotes,
  listVersions,
  searchNotes,
} from './actions.js';
import { noteSubscription, subscribeNotes } from './subscriptions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export function noteRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'user' as const };
    const tags = ['notes'];
    app.post(
      '/v1/notes',
      {
        config,
        schema: {
          tags,
          summary: 'Create a personal note, or a channel note with `cid` (`edit-channel-notes`)',
          description: 'Sending the same `id` again returns the same note (idempotent create).',
          body: CreateNoteBody,
          response: { 201: NoteResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send({ note: await createNote(svc, userOf(req), req.body) }),
    );
    app.get(
      '/v1/notes',
      {
        config,
        schema: {
          tags,
          summary: "My personal notes, or a readable channel's notes with `cid`; latest edited first",
          querystring: NotesQuery,
          response: { 200: NotesResponse, ...errors },
        },
      },
      async (req) => ({ notes: await listNotes(svc, userOf(req), req.query) }),
    );
    app.get(
      '/v1/notes/search',
      {
        config,
        schema: {
          tags,
          summary: 'Find notes the caller may read (their own, and those of channels they may read) by title or text',
          querystring: NoteSearchQuery,
          response: { 200: NotesResponse, ...errors },
        },
      },
      async (req) => ({ notes: await searchNotes(svc, userOf(req), req.query.q, req.query.limit) }),
    );
    app.get(
      '/v1/notes/:id',
      {
        config,
        schema: { tags, summary: 'One note', params: IdParams, response: { 200: NoteResponse, ...errors } },
      },
      async (req) => ({ note: await getNote(svc, userOf(req), req.params.id) }),
    );
    app.patch(
      '/v1/notes/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Edit a note from `base_version`: merged line by line with edits made since, or CONFLICT',
          description:
            'A 409 CONFLICT carries `details: {note, base_version, text, title}`: the note as it stands and the text sent.',
          params: IdParams,
          body: UpdateNoteBody,
          response: { 200: NoteResponse, ...errors },
        },
      },
      async (req) => editNote(svc, userOf(req), req.params.id, req.body),
    );
    app.delete(
      '/v1/notes/:id',
      {
        config,
        schema: { tags, summary: 'Delete a note', params: IdParams, response: { 200: NoteResponse, ...errors } },
      },
      async (req) => ({ note: await deleteNote(svc, userOf(req), req.params.id) }),
    );
    app.get(
      '/v1/notes/:id/versions',
      {
        config,
        schema: {
          tags,
          summary: "A note's versions, newest first, each with its author",
          params: IdParams,
          response: { 200: NoteVersionsResponse, ...errors },
        },
      },
      async (req) => ({ versions: await listVersions(svc, userOf(req), req.params.id) }),
    );
    app.get(
      '/v1/notes/:id/versions/:version',
      {
        config,
        schema: {
          tags,
          summary: 'One version of a note',
          params: NoteVersionParams,
          response: { 200: NoteVersionResponse, ...errors },
        },
      },
      async (req) => ({ version: await getVersion(svc, userOf(req), req.params.id, req.params.version) }),
    );
    const follow = 'A follower gets an inbox item (`note_updated`) when someone else makes or edits a note there.';
    app.get(
      '/v1/channels/:cid/notes/subscription',
      {
        config,
        schema: {
          tags,
          summary: "Whether I follow a channel's notes",
          description: follow,
          params: CidParams,
          response: { 200: NoteSubscriptionResponse, ...errors },
        },
      },
      async (req) => noteSubscription(svc, userOf(req), req.params.cid),
    );
    app.put(
      '/v1/channels/:cid/notes/subscription',
      {
        config,
        schema: {
          tags,
          summary: "Follow a channel's notes (one I may read)",
          description: follow,
          params: CidParams,
          response: { 200: NoteSubscriptionResponse, ...errors },
        },
      },
      async (req) => subscribeNotes(svc, userOf(req), req.params.cid, true),
    );
    app.delete(
      '/v1/channels/:cid/notes/subscription',
      {
        config,
        schema: {
          tags,
          summary: "Stop following a channel's notes",
          params: CidParams,
          response: { 200: NoteSubscriptionResponse, ...errors },
        },
      },
      async (req) => subscribeNotes(svc, userOf(req), req.params.cid, false),
    );
  };
}

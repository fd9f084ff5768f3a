/** Note writes over the socket: the same actions as the REST routes (actions.ts). */
import type { SocketHandlers } from '../../realtime/handlers.js';
import { createNote, deleteNote, editNote } from './actions.js';
import { subscribeNotes } from './subscriptions.js';

export const noteSocket: SocketHandlers = {
  'note.create': async ({ svc, caller }, { type: _t, req_id: _r, ...body }) => ({
    note: await createNote(svc, caller, body),
  }),
  'note.update': async ({ svc, caller }, { type: _t, req_id: _r, id, ...body }) => editNote(svc, caller, id, body),
  'note.delete': async ({ svc, caller }, f) => ({ note: await deleteNote(svc, caller, f.id) }),
  'note.subscribe': async ({ svc, caller }, f) => subscribeNotes(svc, caller, f.cid, f.subscribed ?? true),
};

/** The inbox over the socket: the same actions as its REST routes. */
import type { SocketHandlers } from '../../realtime/handlers.js';
import { listInbox, markAllRead, markItemRead } from './actions.js';

export const inboxSocket: SocketHandlers = {
  'inbox.list': async ({ svc, caller }, f) =>
    listInbox(svc, caller, {
      ...(f.filter !== undefined ? { filter: f.filter } : {}),
      ...(f.limit !== undefined ? { limit: f.limit } : {}),
      ...(f.cursor !== undefined ? { cursor: f.cursor } : {}),
    }),
  'inbox.read': async ({ svc, caller }, f) => markItemRead(svc, caller, f.id, f.read ?? true),
  'inbox.read_all': async ({ svc, caller }) => {
    await markAllRead(svc, caller);
    return { unread_count: 0 };
  },
};

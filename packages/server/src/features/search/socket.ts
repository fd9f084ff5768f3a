/** `search.messages`: the same search as `GET /v1/search/messages`, over the socket. */
import { checkRate } from '../../platform/limits.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import { searchMessages } from './messages.js';

export const searchSocket: SocketHandlers = {
  'search.messages': async ({ svc, caller }, f) => {
    await checkRate(svc, 'searches', caller.app.id, caller.userId);
    return searchMessages(svc, caller, { q: f.q, sort: f.sort, limit: f.limit, cursor: f.cursor });
  },
};

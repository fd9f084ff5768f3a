import type { SocketHandlers } from '../../realtime/handlers.js';

export const presenceSocket: SocketHandlers = {
  'presence.set': async ({ svc, caller }, f) => {
    svc.presence.set(caller.app.id, caller.userId, f.presence);
    return { presence: svc.presence.stateOf(caller.app.id, caller.userId) };
  },
  ping: async () => ({ pong: Date.now() }),
};

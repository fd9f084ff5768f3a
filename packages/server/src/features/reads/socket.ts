import type { SocketHandlers } from '../../realtime/handlers.js';
import { markRead } from './actions.js';

export const readSocket: SocketHandlers = {
  'read.mark': async ({ svc, caller }, f) => markRead(svc, caller, f.cid, f.seq),
};

import type { SocketHandlers } from '../../realtime/handlers.js';
import { markRead } from './actions.js';
import { setLastChannel } from './last-channel.js';

export const readSocket: SocketHandlers = {
  'read.mark': async ({ svc, caller }, f) => markRead(svc, caller, f.cid, f.seq),
  'last_channel.set': async ({ svc, caller }, f) => setLastChannel(svc, caller, f.cid),
};

import type { SocketHandlers } from '../../realtime/handlers.js';
import { closePoll, votePoll } from './actions.js';

export const pollSocket: SocketHandlers = {
  'poll.vote': async ({ svc, caller }, f) => votePoll(svc, caller, f.message_id, f.option_ids),
  'poll.unvote': async ({ svc, caller }, f) => votePoll(svc, caller, f.message_id, null),
  'poll.close': async ({ svc, caller }, f) => closePoll(svc, caller, f.message_id),
};

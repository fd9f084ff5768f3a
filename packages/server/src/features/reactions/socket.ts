import { invalid } from '../../platform/errors.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import { addReaction, removeReaction } from './actions.js';

export const reactionSocket: SocketHandlers = {
  'reaction.add': async ({ svc, caller }, f) => addReaction(svc, caller, f.message_id, f.reaction.type),
  'reaction.remove': async ({ svc, caller }, f) => {
    const type = f.reaction?.type ?? f.reaction_type;
    if (!type) throw invalid('reaction.remove needs reaction: {type} or reaction_type');
    return removeReaction(svc, caller, f.message_id, type);
  },
};

import type { SocketHandlers } from '../../realtime/handlers.js';
import { deleteMessage, sendMessage, updateMessage } from './actions.js';
import { takeTurn } from './send-order.js';

export const messageSocket: SocketHandlers = {
  'message.send': async ({ svc, conn, caller }, f) => {
    // Taken before any await: frames of one connection to one channel are stored in arrival order.
    const turn = takeTurn(conn, f.cid, f.message.id ?? undefined);
    try {
      const message = await sendMessage(svc, caller, f.cid, f.message, turn);
      turn.ended();
      return { message };
    } catch (err) {
      turn.ended(err);
      throw err;
    }
  },
  'message.update': async ({ svc, caller }, f) => ({
    message: await updateMessage(svc, caller, f.message.id, f.message.text),
  }),
  'message.delete': async ({ svc, caller }, f) => ({ message: await deleteMessage(svc, caller, f.message_id) }),
};

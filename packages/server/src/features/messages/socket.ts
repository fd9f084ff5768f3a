import type { SocketHandlers } from '../../realtime/handlers.js';
import { deleteMessage, sendMessage, updateMessage } from './actions.js';

export const messageSocket: SocketHandlers = {
  'message.send': async ({ svc, caller }, f) => ({ message: await sendMessage(svc, caller, f.cid, f.message) }),
  'message.update': async ({ svc, caller }, f) => ({
    message: await updateMessage(svc, caller, f.message.id, f.message.text),
  }),
  'message.delete': async ({ svc, caller }, f) => ({ message: await deleteMessage(svc, caller, f.message_id) }),
};

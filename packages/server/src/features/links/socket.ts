import type { SocketHandlers } from '../../realtime/handlers.js';
import { removePreview } from './actions.js';

export const linkSocket: SocketHandlers = {
  'preview.remove': async ({ svc, caller }, f) => ({
    message: await removePreview(svc, caller, f.message_id, f.url),
  }),
};

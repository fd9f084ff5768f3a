import { forbidden } from '../../platform/errors.js';
import { checkRate } from '../../platform/limits.js';
import type { SocketHandlers } from '../../realtime/handlers.js';
import { accessChannelRead } from '../channels/index.js';

export const typingSocket: SocketHandlers = {
  'typing.start': async ({ svc, caller, conn }, f) => {
    const a = await accessChannelRead(svc.db, caller, f.cid);
    if (!a.member) throw forbidden('Only members type in a channel');
    await checkRate(svc, 'typing', caller.app.id, caller.userId);
    svc.typing.start(caller.app.id, f.cid, f.parent_id ?? null, conn.user);
    return undefined;
  },
  'typing.stop': async ({ svc, caller, conn }, f) => {
    svc.typing.stop(caller.app.id, f.cid, f.parent_id ?? null, conn.user);
    return undefined;
  },
};

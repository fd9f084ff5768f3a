/** Slash commands over the socket: the same action as `POST /v1/channels/{cid}/commands/run`. */
import type { SocketHandlers } from '../../realtime/handlers.js';
import { runCommand } from './actions.js';

export const commandSocket: SocketHandlers = {
  'command.run': async ({ svc, caller }, { type: _t, req_id: _r, cid, ...body }) => runCommand(svc, caller, cid, body),
};

/**
 * The call requests of the socket. Every one acts for the device it arrives on (the
 * connection's id is the participant's device), which is why calls have no REST writes.
 */
import type { SocketHandlers } from '../../realtime/handlers.js';
import {
  cancelCall,
  declineCall,
  endCall,
  inviteToCall,
  joinCall,
  leaveCall,
  relaySignal,
  startCall,
} from './actions.js';

export const callSocket: SocketHandlers = {
  'call.start': async ({ svc, conn, caller }, f) => ({
    call: await startCall(svc, caller, conn.id, { cid: f.cid, kind: f.kind, invite: f.invite }),
  }),
  'call.accept': async ({ svc, conn, caller }, f) => ({
    call: await joinCall(svc, caller, conn.id, f.call_id, 'accept'),
  }),
  'call.join': async ({ svc, conn, caller }, f) => ({ call: await joinCall(svc, caller, conn.id, f.call_id, 'join') }),
  'call.decline': async ({ svc, conn, caller }, f) => ({ call: await declineCall(svc, caller, conn.id, f.call_id) }),
  'call.cancel': async ({ svc, conn, caller }, f) => ({ call: await cancelCall(svc, caller, conn.id, f.call_id) }),
  'call.leave': async ({ svc, conn, caller }, f) => ({ call: await leaveCall(svc, caller, conn.id, f.call_id) }),
  'call.end': async ({ svc, conn, caller }, f) => ({ call: await endCall(svc, caller, conn.id, f.call_id) }),
  'call.invite': async ({ svc, conn, caller }, f) => ({
    call: await inviteToCall(svc, caller, conn.id, f.call_id, f.user_ids),
  }),
  'call.signal': async ({ svc, conn, caller }, f) => {
    await relaySignal(svc, caller, conn.id, f);
    return undefined;
  },
};

/**
 * The spaces requests of the socket: the same actions as the REST routes, plus watching the
 * office (`spaces.watch`), which only a connection can do.
 */
import type { SocketHandlers } from '../../realtime/handlers.js';
import { accessOfficeCaller } from './access.js';
import { answerKnock, answerTeleport, knock, teleport } from './invites.js';
import { listSpaces } from './layout.js';
import { enterSpace, leaveSpace } from './moves.js';

export const spaceSocket: SocketHandlers = {
  /**
   * Watch first, then read: a change between the two arrives as an event after a reply that
   * may already show it, never not at all.
   */
  'spaces.watch': async ({ svc, caller, conn }) => {
    await accessOfficeCaller(svc.db, caller, svc.clock());
    if (conn.isOpen) svc.hub.watchSpaces(conn);
    return { spaces: await listSpaces(svc, caller) };
  },
  'spaces.unwatch': async ({ svc, conn }) => {
    svc.hub.unwatchSpaces(conn);
    return {};
  },
  'space.enter': async ({ svc, caller }, f) => ({ space: await enterSpace(svc, caller, f.space_id) }),
  'space.leave': async ({ svc, caller }) => ({ space: await leaveSpace(svc, caller) }),
  'space.teleport': async ({ svc, caller }, f) => ({
    invitation: await teleport(svc, caller, f.space_id, f.user_id),
  }),
  'space.teleport.answer': async ({ svc, caller }, f) => ({
    invitation: await answerTeleport(svc, caller, f.space_id, f.accept),
  }),
  'space.knock': async ({ svc, caller }, f) => ({ invitation: await knock(svc, caller, f.space_id) }),
  'space.knock.answer': async ({ svc, caller }, f) => ({
    invitation: await answerKnock(svc, caller, f.space_id, f.user_id, f.admit),
  }),
};

/**
 * The channels feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export {
  accessChannelRead,
  type ChannelAccess,
  checkPost,
  checkReact,
  checkRead,
  loadChannel,
  mayReadChannel,
  memberRow,
  RANK,
  rankOf,
} from './access.js';
export {
  addMembers,
  bump,
  channelWithMembers,
  createChannel,
  dmId,
  removeMembers,
  setArchived,
  systemMessage,
} from './actions.js';
export { type OpeningRead, readOpenings, type SeedRows } from './openings.js';
export { type ChannelRow, type MemberRow, presentChannel, presentMember, presentMembership } from './present.js';
export { roomCid, spaceOfRoom } from './rooms.js';
export { channelRoutes } from './routes.js';
export { admitConnection, channelSocket, openConnection } from './socket.js';

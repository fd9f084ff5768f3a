/**
 * The inbox feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export {
  recordChannelRead,
  recordEditedMentions,
  recordInvitations,
  recordItems,
  recordLater,
  recordMessage,
  recordNoteMentions,
} from './record.js';
export { inboxRoutes } from './routes.js';
export { inboxSocket } from './socket.js';

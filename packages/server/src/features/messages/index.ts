/**
 * The messages feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { accessMessage, messageRow } from './access.js';
export { deleteMessage, enrichMessages, ownReactions, runSendJob, sendMessage } from './actions.js';
export { planFirstMessage } from './first-message.js';
export { CLOSE_POLL } from './job-names.js';
export type { StoredPoll } from './polls.js';
export { type MessageRow, presentMessage } from './present.js';
export { listMessages, listReplies } from './queries.js';
export { messageRoutes } from './routes.js';
export { SendBatcher } from './send-batch.js';
export { messageSocket } from './socket.js';
export { BOT_USER_ID, sendSystemMessage } from './system.js';

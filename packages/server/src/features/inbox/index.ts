/**
 * The inbox feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { defineInboxJobs } from './jobs.js';
export { invitationItems, recordChannelRead, recordItems, recordMessage, recoverPending } from './record.js';
export { inboxRoutes } from './routes.js';
export { inboxSocket } from './socket.js';
export { holdInboxTask, type InboxTask, recoverAtStart, recoverTasks } from './tasks.js';

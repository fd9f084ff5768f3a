/**
 * The moderation feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { addMessageCheck, checkAutomod, fileAutomodFlag, type MessageCheck } from './automod.js';
export { defineModerationJobs } from './jobs.js';
export { notMutedBy } from './mutes.js';
export { moderationRoutes } from './routes.js';
export { SHADOW_VIEWER_ROLES, seesAllShadowed, shadowVisible } from './shadow.js';
export { checkSlowMode } from './slow-mode.js';

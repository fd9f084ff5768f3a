/**
 * The notifications feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { inDnd } from './decide.js';
export { DND_FOREVER, scheduleDndEnd } from './dnd-end.js';
export { defineNotificationJobs } from './jobs.js';
export { notificationRoutes } from './routes.js';
export { notifyMessage, notifySettled } from './trigger.js';

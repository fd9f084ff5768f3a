/**
 * The audit feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { checkAppAdmin, isAppAdmin } from './access.js';
export { defineAuditJobs } from './jobs.js';
export { accountActor, actorOfCaller, recordAudit, SYSTEM } from './record.js';
export { auditRoutes } from './routes.js';

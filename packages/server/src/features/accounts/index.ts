/**
 * The accounts feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { announceWorkspace, checkLogoAccess } from './branding.js';
export { ChatSessions, SESSIONS_TOPIC } from './chat-sessions.js';
export { defineAccountJobs } from './mail-jobs.js';
export { publicUrl } from './mails.js';
export { membershipRoutes } from './membership-routes.js';
export { oidcRoutes } from './oidc-routes.js';
export { accountRoutes } from './routes.js';
export { resolveSession } from './sessions.js';
export { sweepSigninLockouts } from './signin-guard.js';

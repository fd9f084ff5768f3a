/**
 * The reads feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { UnreadPush } from './push.js';
export { unreadTotals } from './queries.js';
export { readRoutes } from './routes.js';
export { readSocket } from './socket.js';

/**
 * The links feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { UNFURL } from './job-names.js';
export { cardOf, defineLinkJobs } from './jobs.js';
export { linkRoutes } from './routes.js';
export { checkOutboundUrl, checkTarget, FetchRefused, isPublicAddress, type Lookup, safeFetch } from './safe-fetch.js';
export { linkSocket } from './socket.js';
export { normalizeUrl, previewUrls } from './urls.js';

/**
 * The presence feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { defineOfflineSweep, graceSeconds, type OfflineSweep, type SweptRow, stillGone } from './offline-sweep.js';
export { Presence, presenceOutgoing } from './presence.js';
export { RedisShare } from './share.js';
export { presenceSocket } from './socket.js';
export { RedisViewerShare, Viewers } from './viewers.js';

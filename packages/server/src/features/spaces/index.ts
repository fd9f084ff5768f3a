/**
 * The spaces feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
// A space's room follows its call (in_meeting): registered when the feature is loaded.
import './calls.js';

export { defineSpaceJobs } from './away.js';
export { dropOccupant } from './moves.js';
export { spacesOfUsers } from './present.js';
export { spaceRoutes } from './routes.js';
export { spaceSocket } from './socket.js';

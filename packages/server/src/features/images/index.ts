/**
 * The images feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { imageUrl } from './actions.js';
export { followPublicUrl, movePictures } from './origin.js';
export { renderSquare } from './render.js';
export { imageRoutes, originOf } from './routes.js';

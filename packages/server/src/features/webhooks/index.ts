/**
 * The webhooks feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { checkBeforeSend } from './before-send.js';
export { defineWebhookJobs } from './deliver.js';
export { recordDeliveries } from './outbox.js';
export { WEBHOOKS_TOPIC, WebhookPump } from './pump.js';
export { webhookRoutes } from './routes.js';
export { HOOKS_TOPIC, HookRegistry } from './settings.js';
export { signatureHeader, wants } from './signature.js';

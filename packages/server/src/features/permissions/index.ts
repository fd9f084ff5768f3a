/**
 * The permissions feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { checkAppAdmin } from './app-admin.js';
export {
  appBanned,
  appCan,
  can,
  checkCan,
  checkOverrides,
  effectiveTable,
  isGuest,
  LEVEL_RANK,
  ownCapabilities,
  type PermissionSubject,
} from './policy.js';

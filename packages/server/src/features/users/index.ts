/**
 * The users feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { ensureUser, forgetUser, onStatusChange, userUpdated } from './actions.js';
export { setUserImage } from './avatar.js';
export { accessFilterFields } from './fields.js';
export { CLEAR_STATUS } from './job-names.js';
export { MENTION_KEYWORDS, parseMentions } from './mentions.js';
export {
  checkName,
  isNameClash,
  isReservedName,
  isUsername,
  type NameOwner,
  type NameProblem,
  nameError,
  nameProblems,
} from './names.js';
export { presentUser, type UserRow } from './present.js';
export { announceUserUpdated } from './profile.js';
export { likePrefix, visibleToGuest } from './queries.js';
export { userRoutes } from './routes.js';

/**
 * The files feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export {
  accessChannelFiles,
  checkQuotaRoom,
  multipartBoundary,
  type Received,
  receive,
  startUploadSweep,
  storeUpload,
  watchMultipart,
} from './actions.js';
export { attachFiles, dropMessageFiles, usage } from './attach.js';
export { EXPIRE_UPLOAD } from './job-names.js';
export { defineFileJobs } from './jobs.js';
export { THUMBNAILED, thumbnails } from './media.js';
export { sanitizeName } from './names.js';
export { type FileRow, presentAttachment } from './present.js';
export { fileRoutes } from './routes.js';
export { checkUploadRules } from './rules.js';
export { SNIFF_BYTES, sniff } from './sniff.js';

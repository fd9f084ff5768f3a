/**
 * The imports feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { type ExportProblem, ExportRefusedError, ImportInputError } from './errors.js';
export {
  importMattermostExport,
  type MattermostImportOptions,
  type MattermostImportReport,
  type MattermostRename,
  type MattermostSkip,
  mattermostMessageId,
} from './mattermost.js';
export { openMattermostExport } from './mattermost-export.js';
export {
  importParleyExport,
  type ParleyGroupRename,
  type ParleyImportOptions,
  type ParleyImportReport,
  type ParleyRename,
} from './parley.js';
export { exportWorkspace, type WorkspaceExportOptions } from './parley-export.js';
export { PARLEY_FORMAT, PARLEY_FORMAT_VERSION } from './parley-format.js';
export { importRoutes } from './routes.js';
export {
  type ImportRename,
  type ImportReport,
  type ImportSkip,
  importSlackExport,
  slackMessageId,
} from './slack.js';
export { defineImportJobs } from './workspace-exports.js';
export {
  archiveFromEntries,
  DEFAULT_EXPORT_LIMITS,
  type ExportArchive,
  ExportLimitError,
  type ExportLimits,
  openExportZip,
} from './zip.js';

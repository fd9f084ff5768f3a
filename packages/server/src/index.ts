/** @parley/server — build, migrate and run a Parley server. */
export { type BuildOptions, buildServer, type ParleyServer } from './app.js';
export { publicUrl } from './features/accounts/index.js';
export {
  archiveFromEntries,
  DEFAULT_EXPORT_LIMITS,
  type ExportArchive,
  ExportLimitError,
  type ExportLimits,
  type ExportProblem,
  ExportRefusedError,
  exportWorkspace,
  ImportInputError,
  type ImportRename,
  type ImportReport,
  type ImportSkip,
  importMattermostExport,
  importParleyExport,
  importSlackExport,
  type MattermostImportOptions,
  type MattermostImportReport,
  type MattermostRename,
  type MattermostSkip,
  mattermostMessageId,
  openExportZip,
  openMattermostExport,
  PARLEY_FORMAT,
  PARLEY_FORMAT_VERSION,
  type ParleyGroupRename,
  type ParleyImportOptions,
  type ParleyImportReport,
  type ParleyRename,
  slackMessageId,
  type WorkspaceExportOptions,
} from './features/imports/index.js';
export { startServer } from './main.js';
export { signToken, verifyToken } from './platform/auth.js';
export { type BackupResult, createBackup } from './platform/backup/create.js';
export { BackupError, type Manifest, verifyArchive } from './platform/backup/format.js';
export { type RestoreResult, restoreBackup } from './platform/backup/restore.js';
export { recentRuns as recentBackups } from './platform/backup/runs.js';
export { type Config, configFromEnv, defaultConfig, NO_HTTP_LIMITS } from './platform/config.js';
export { type Database, openDatabase } from './platform/db/index.js';
export {
  DatabaseTooNewError,
  lastKnownMigration,
  MIGRATIONS_FOLDER,
  type MigrateOptions,
  type MigrationReport,
  runMigrations,
} from './platform/db/migrate.js';
export { compatibleFrom, RELEASES, type Release } from './platform/db/releases.js';
export { prepareDatabaseTemplate } from './platform/db/template.js';
export type { Template, TemplateOptions } from './platform/db/template-find.js';
export { checkMasterKey, MasterKeyMismatchError } from './platform/key-check.js';
export { describeOutboundAllow } from './platform/outbound.js';
export { PARLEY_VERSION } from './platform/package-version.js';
export { createSealer, loadAdminToken, loadMasterKey } from './platform/secrets.js';
export { createStorage } from './platform/storage/index.js';
export { AppRegistry } from './platform/tenancy.js';
export { hasWebApp } from './platform/web.js';
export { type Broker, type BusMessage, MemoryBroker, MemoryNetwork } from './realtime/broker.js';

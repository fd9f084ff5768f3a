/** @parley/server — build, migrate and run a Parley server. */
export { type BuildOptions, buildServer, type ParleyServer } from './app.js';
export {
  ImportInputError,
  type ImportReport,
  type ImportSkip,
  importSlackExport,
  slackMessageId,
} from './features/imports/index.js';
export { startServer } from './main.js';
export { signToken, verifyToken } from './platform/auth.js';
export { type Config, configFromEnv, defaultConfig, NO_HTTP_LIMITS } from './platform/config.js';
export { type Database, openDatabase } from './platform/db/index.js';
export { MIGRATIONS_FOLDER, runMigrations } from './platform/db/migrate.js';
export { prepareDatabaseTemplate, type Template, type TemplateOptions } from './platform/db/template.js';
export { checkMasterKey, MasterKeyMismatchError } from './platform/key-check.js';
export { describeOutboundAllow } from './platform/outbound.js';
export { createSealer, loadAdminToken, loadMasterKey } from './platform/secrets.js';
export { createStorage } from './platform/storage/index.js';
export { AppRegistry } from './platform/tenancy.js';
export { hasWebApp } from './platform/web.js';
export { type Broker, type BusMessage, MemoryBroker, MemoryNetwork } from './realtime/broker.js';

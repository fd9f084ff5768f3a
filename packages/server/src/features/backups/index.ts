/**
 * The backups feature's entry point: the admin routes that make a backup through a running
 * server and report the last one (the work is in platform/backup).
 */
export { type BackupDeps, backupRoutes } from './routes.js';

/**
 * Working on the database without a server: open it, migrate, check the master key, and
 * hand over the app registry. The only module of the admin commands that loads
 * @parley/server (drizzle, PGlite, pg …), and only when it is called.
 */
import type { AppRegistry } from '@parley/server';
import type { Values } from './args.js';
import { cliEnv } from './settings.js';

export async function withApps<T>(values: Values, fn: (apps: AppRegistry) => Promise<T>): Promise<T> {
  const server = await import('@parley/server');
  const cfg = server.configFromEnv(cliEnv(values));
  // The key first: a malformed one fails before the database is opened.
  const key = server.loadMasterKey(cfg.masterKey, cfg.dataDir);
  const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
  try {
    await server.runMigrations(database);
    await server.checkMasterKey(database.db, key);
    return await fn(new server.AppRegistry(database.db, server.createSealer(key)));
  } finally {
    await database.close();
  }
}

/** `parley migrate`: apply pending migrations; returns the line to print. */
export async function migrate(values: Values): Promise<string> {
  const server = await import('@parley/server');
  const cfg = server.configFromEnv(cliEnv(values));
  const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
  try {
    const r = await server.runMigrations(database);
    return `${r.applied} migration(s) applied; ${r.total} in all (${database.kind})`;
  } finally {
    await database.close();
  }
}

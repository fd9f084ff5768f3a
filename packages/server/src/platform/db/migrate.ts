/**
 * Applying migrations. The SQL files in `migrations/` come from `drizzle-kit generate`, are
 * versioned by drizzle's journal, and are never edited after they land. On PostgreSQL an
 * advisory lock makes concurrent starters (several nodes, several workers) apply them once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { Database } from './types.js';

export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const LOCK_KEY = 0x7061726c; // 'parl'

/** How many migrations exist, and how many were applied by this call. */
export interface MigrationReport {
  total: number;
  applied: number;
}

/** What the migrator needs of a database: the drizzle handle and the driver underneath. */
export type Migratable = Pick<Database, 'db' | 'driver'>;

async function appliedCount(database: Migratable): Promise<number> {
  const q = `select count(*)::int as n from drizzle.__drizzle_migrations`;
  try {
    if (database.driver.kind === 'pglite') {
      const r = await database.driver.client.query<{ n: number }>(q);
      return r.rows[0]?.n ?? 0;
    }
    const r = await database.driver.pool.query<{ n: number }>(q);
    return r.rows[0]?.n ?? 0;
  } catch {
    return 0; // no journal table yet: nothing applied
  }
}

/**
 * Apply every migration not yet applied. Safe to call on every start. `folder` is for tests
 * and the template builder (`template.ts`), which may apply an older set.
 */
export async function runMigrations(
  database: Migratable,
  folder: string = MIGRATIONS_FOLDER,
): Promise<MigrationReport> {
  const total = readMigrationFiles({ migrationsFolder: folder }).length;
  const config = { migrationsFolder: folder };
  if (database.driver.kind === 'pglite') {
    const before = await appliedCount(database);
    await migratePglite(database.db as unknown as PgliteDatabase, config);
    return { total, applied: (await appliedCount(database)) - before };
  }
  const client = await database.driver.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    const before = await appliedCount(database);
    await migratePg(database.db as unknown as NodePgDatabase, config);
    return { total, applied: (await appliedCount(database)) - before };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
}

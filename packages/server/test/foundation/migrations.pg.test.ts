/** Migrations: all applied once on a fresh database, none again, and once under concurrent starters. */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { runMigrations } from '../../src/platform/db/migrate.js';
import { backend } from '../harness.js';
import { ownDatabase } from './helpers.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

async function fresh() {
  const own = await ownDatabase({ migrate: false });
  drops.push(own.drop);
  return own;
}

const TABLES = ['apps', 'users', 'channels', 'members', 'messages'];

async function missingTables(db: Parameters<typeof rows>[0]): Promise<string[]> {
  const found = await rows<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables where table_schema = 'public'`,
  );
  const names = new Set(found.map((r) => r.name));
  return TABLES.filter((t) => !names.has(t));
}

describe('runMigrations', () => {
  it('applies every migration on a fresh database, then none on the second run', async () => {
    const { database } = await fresh();
    expect(await missingTables(database.db)).toEqual(TABLES);

    const first = await runMigrations(database);
    expect(first.total).toBeGreaterThan(0);
    expect(first.applied).toBe(first.total);
    expect(await missingTables(database.db)).toEqual([]);

    const second = await runMigrations(database);
    expect(second).toEqual({ total: first.total, applied: 0 });
  });

  it.skipIf(backend !== 'postgres')(
    'lets two concurrent starters both succeed, applying each migration once',
    async () => {
      const own = await fresh();
      const other = await own.reopen();
      const [x, y] = await Promise.all([runMigrations(own.database), runMigrations(other)]);
      expect(x.total).toBeGreaterThan(0);
      expect(y.total).toBe(x.total);
      // The advisory lock serialises them: one applied everything, the other nothing.
      expect([x.applied, y.applied].sort((p, q) => p - q)).toEqual([0, x.total]);
      expect(await missingTables(own.database.db)).toEqual([]);
      const journal = await rows<{ n: number }>(
        own.database.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      expect(journal[0]?.n).toBe(x.total);
      // And a third, later starter finds nothing to do.
      expect((await runMigrations(other)).applied).toBe(0);
    },
  );
});

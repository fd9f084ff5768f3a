/**
 * Nodes sharing a database must share the master key that seals the app secrets in it. The
 * database keeps a check value of the key; a node built with another key refuses to start
 * with a message naming PARLEY_MASTER_KEY, instead of failing every token later.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/app.js';
import { defaultConfig } from '../../src/platform/config.js';
import type { Database } from '../../src/platform/db/index.js';
import { checkMasterKey, MasterKeyMismatchError, masterKeyCheckValue } from '../../src/platform/key-check.js';
import { createSealer } from '../../src/platform/secrets.js';
import { ownDatabase } from './helpers.js';

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Build a node the way `parley start` does (migrate: true), then close it. */
async function startNode(database: Database, masterKey: string): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-key-'));
  dirs.push(dataDir);
  const config = defaultConfig({ dataDir, masterKey, adminToken: 'adm', logLevel: 'silent' });
  const s = await buildServer(config, { database, migrate: true, logger: false });
  await s.app.close();
}

describe('the master key check value', () => {
  it('a second node with another key refuses to start, naming PARLEY_MASTER_KEY; the same key starts', async () => {
    const own = await ownDatabase();
    try {
      // On PostgreSQL, each node on its own connection pool, as on two machines.
      const second = own.url ? await own.reopen() : own.database;
      await startNode(own.database, KEY_A);
      const refused = startNode(second, KEY_B);
      await expect(refused).rejects.toBeInstanceOf(MasterKeyMismatchError);
      await expect(refused).rejects.toThrow(/PARLEY_MASTER_KEY/);
      await startNode(second, KEY_A);
    } finally {
      await own.drop();
    }
  });

  it('a database from before the check is checked against its apps, then gets the check value', async () => {
    const own = await ownDatabase();
    try {
      const db = own.database.db;
      await db.execute(
        sql`insert into apps (id, name, api_key, api_secret_sealed)
            values (gen_random_uuid(), 'old', 'pk_old', ${createSealer(Buffer.from(KEY_A, 'hex')).seal('sk_old')})`,
      );
      await expect(checkMasterKey(db, Buffer.from(KEY_B, 'hex'))).rejects.toBeInstanceOf(MasterKeyMismatchError);
      await checkMasterKey(db, Buffer.from(KEY_A, 'hex'));
      const r = (await db.execute(sql`select check_value from master_key_check`)) as unknown as {
        rows: { check_value: string }[];
      };
      expect(r.rows).toEqual([{ check_value: masterKeyCheckValue(Buffer.from(KEY_A, 'hex')) }]);
      // The check value is an HMAC: it does not contain the key.
      expect(r.rows[0]?.check_value).not.toContain(KEY_A.slice(0, 16));
    } finally {
      await own.drop();
    }
  });
});

/**
 * Restoring a backup into a deployment that is not running: the database (PGlite's folder, or
 * PostgreSQL through `pg_restore`), the objects into the configured store, and the master key.
 *
 * The archive is verified whole before anything is written, and every refusal (wrong
 * passphrase, newer migrations than this code knows, another database kind, a target that
 * holds data) comes before the first write. A restored deployment gets a new data epoch
 * (runs.ts), so clients that saw events newer than the backup start over instead of keeping
 * them, and the backup's own row reads as the one it was restored from.
 */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import type { Config } from '../config.js';
import { openDatabase } from '../db/index.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../db/migrate.js';
import { checkMasterKey } from '../key-check.js';
import { LocalStore, S3Store } from '../storage/store.js';
import { keyFingerprint, runPgTool } from './create.js';
import {
  BackupError,
  DATABASE_ENTRY,
  type Manifest,
  OBJECTS_PREFIX,
  openKey,
  readArchive,
  verifyArchive,
} from './format.js';
import { markRestored } from './runs.js';

export interface RestoreOptions {
  file: string;
  /** Opens the master key sealed in the backup. */
  passphrase?: string | undefined;
  /** Replace a deployment that holds data (its PGlite folder is moved aside, not deleted). */
  force?: boolean;
  /** Progress lines for the operator. */
  note?: (line: string) => void;
}

export interface RestoreResult {
  manifest: Manifest;
  databaseKind: 'pglite' | 'postgres';
  objects: number;
  /** Where the master key came from. */
  key: 'backup' | 'configured';
  /** PGlite with --force: where the replaced database folder was moved. */
  movedAside: string | null;
}

function parseKey(raw: string): Buffer | null {
  const t = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  return key.length === 32 ? key : null;
}

/** Restore `opts.file` into the deployment `config` describes (which must not be running). */
export async function restoreBackup(config: Config, opts: RestoreOptions): Promise<RestoreResult> {
  const note = opts.note ?? (() => {});
  note(`verifying ${opts.file}…`);
  const { manifest, sealedKey } = await verifyArchive(opts.file);
  const kind = config.databaseUrl ? 'postgres' : 'pglite';

  // ---- every refusal before the first write ---------------------------------------------
  const known = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length;
  if (manifest.database.migrations > known)
    throw new BackupError(
      `this backup comes from a newer Parley (${manifest.parley_version}: ${manifest.database.migrations} migrations; this one has ${known}): upgrade Parley, then restore`,
    );
  if (manifest.database.kind !== kind)
    throw new BackupError(
      `this backup holds a ${manifest.database.kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL'} database and this deployment uses ${kind === 'pglite' ? 'PGlite (no DATABASE_URL)' : 'PostgreSQL (DATABASE_URL)'}: restore it into the same kind`,
    );

  const keyFile = path.join(config.dataDir, 'master.key');
  const onDisk = existsSync(keyFile) ? parseKey(readFileSync(keyFile, 'utf8')) : null;
  const configured = config.masterKey ? parseKey(config.masterKey) : null;
  let key: Buffer;
  let keySource: RestoreResult['key'];
  if (sealedKey) {
    if (!opts.passphrase)
      throw new BackupError(
        'this backup holds the master key sealed with a passphrase: give it (PARLEY_BACKUP_PASSPHRASE or --passphrase-file FILE)',
      );
    key = await openKey(sealedKey, opts.passphrase);
    if (configured && !configured.equals(key))
      throw new BackupError('PARLEY_MASTER_KEY is not the key in this backup: unset it, or set it to the backup’s key');
    keySource = 'backup';
  } else {
    const have = configured ?? onDisk;
    if (!have)
      throw new BackupError(
        `this backup was made without its master key: set PARLEY_MASTER_KEY to the key of the deployment it came from (fingerprint ${manifest.key.fingerprint})`,
      );
    key = have;
    keySource = 'configured';
  }
  if (keyFingerprint(key) !== manifest.key.fingerprint)
    throw new BackupError(
      `the master key ${configured ? 'in PARLEY_MASTER_KEY' : `in ${keyFile}`} is not this backup’s (fingerprint ${manifest.key.fingerprint}); it could not read the app secrets`,
    );
  const store = config.s3 ? new S3Store(config.s3) : new LocalStore(path.join(config.dataDir, 'files'));
  await store.check();

  const held: string[] = [];
  if (kind === 'pglite') {
    if (await pgliteHoldsData(path.join(config.dataDir, 'pgdata'))) held.push(`the database in ${config.dataDir}`);
  } else if (await postgresHoldsData(config.databaseUrl as string)) held.push('the PostgreSQL database');
  for await (const _ of store.list()) {
    held.push(config.s3 ? `the bucket ${config.s3.bucket}` : `${path.join(config.dataDir, 'files')}`);
    break;
  }
  if (!sealedKey || configured) {
    // the key is already in place
  } else if (onDisk && !onDisk.equals(key)) held.push(keyFile);
  if (held.length > 0 && !opts.force)
    throw new BackupError(
      `the target deployment is not empty (${held.join(', ')}): restore into an empty one, or add --force to replace it`,
    );

  // ---- writes ---------------------------------------------------------------------------
  await mkdir(config.dataDir, { recursive: true });
  const tmp = await mkdtemp(path.join(config.dataDir, '.restore-'));
  let movedAside: string | null = null;
  let objects = 0;
  try {
    await readArchive(opts.file, async (e) => {
      if (e.name === DATABASE_ENTRY.pglite && kind === 'pglite') {
        note('restoring the database (PGlite)…');
        movedAside = await restorePglite(config.dataDir, e.stream, tmp);
      } else if (e.name === DATABASE_ENTRY.postgres && kind === 'postgres') {
        note('restoring the database (pg_restore)…');
        const dump = path.join(tmp, 'postgres.dump');
        await pipeline(e.stream, createWriteStream(dump));
        await emptyPostgres(config.databaseUrl as string);
        await runPgTool(
          'pg_restore',
          ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', dump],
          config.databaseUrl as string,
        );
        await rm(dump, { force: true });
        note(`restoring ${manifest.objects.count} objects…`);
      } else if (e.name.startsWith(OBJECTS_PREFIX)) {
        const key = e.name.slice(OBJECTS_PREFIX.length);
        const file = path.join(tmp, `object-${objects}`);
        await pipeline(e.stream, createWriteStream(file));
        await store.putFile(key, file, { contentType: 'application/octet-stream', size: e.size });
        await rm(file, { force: true });
        objects++;
      }
    });

    if (keySource === 'backup' && !configured) {
      // Written like loadMasterKey's: readable by its owner only.
      await writeFile(`${keyFile}.tmp`, `${key.toString('hex')}\n`, { mode: 0o600 });
      await rename(`${keyFile}.tmp`, keyFile);
    }

    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, template: false });
    try {
      await runMigrations(database);
      await checkMasterKey(database.db, key);
      await markRestored(database.db, {
        id: manifest.backup_id,
        bytes: (await stat(opts.file)).size,
        objects,
        finishedAt: new Date(manifest.finished_at),
      });
    } finally {
      await database.close();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { manifest, databaseKind: kind, objects, key: keySource, movedAside };
}

/** Whether a PGlite folder holds a database with at least one app (a started, unused one does not). */
async function pgliteHoldsData(pgdata: string): Promise<boolean> {
  if (!existsSync(pgdata)) return false;
  const client = await PGlite.create({ dataDir: pgdata });
  try {
    const r = await client.query<{ n: number }>(
      `select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name = 'apps'`,
    );
    if (!r.rows[0]?.n) return false;
    const apps = await client.query<{ n: number }>('select count(*)::int as n from apps');
    return (apps.rows[0]?.n ?? 0) > 0;
  } finally {
    await client.close();
  }
}

/** Load PGlite's folder from the archive beside the data folder, then swap it in. */
async function restorePglite(dataDir: string, stream: NodeJS.ReadableStream, tmp: string): Promise<string | null> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const staged = path.join(tmp, 'pgdata');
  const client = await PGlite.create({
    dataDir: staged,
    loadDataDir: new Blob([Buffer.concat(chunks)], { type: 'application/x-gzip' }),
  });
  await client.close();
  const pgdata = path.join(dataDir, 'pgdata');
  let movedAside: string | null = null;
  if (existsSync(pgdata)) {
    movedAside = `${pgdata}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(pgdata, movedAside);
  }
  await rename(staged, pgdata);
  return movedAside;
}

const SYSTEM_SCHEMAS = `schema_name not in ('pg_catalog', 'information_schema', 'pg_toast') and schema_name not like 'pg_temp%' and schema_name not like 'pg_toast_temp%'`;

/** Whether PostgreSQL holds a Parley database with at least one app, or tables of anything else. */
async function postgresHoldsData(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_schema in (select schema_name from information_schema.schemata where ${SYSTEM_SCHEMAS})`,
    );
    if (t.rows.length === 0) return false;
    if (!t.rows.some((r) => r.schema === 'public' && r.name === 'apps')) return true;
    const apps = await client.query<{ n: number }>('select count(*)::int as n from public.apps');
    return (apps.rows[0]?.n ?? 0) > 0;
  } finally {
    await client.end();
  }
}

/** Drop every schema of the database (what pg_restore will create again) and make `public` anew. */
async function emptyPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const s = await client.query<{ name: string }>(
      `select schema_name as name from information_schema.schemata where ${SYSTEM_SCHEMAS}`,
    );
    for (const { name } of s.rows) await client.query(`drop schema ${pg.escapeIdentifier(name)} cascade`);
    await client.query('create schema public');
  } finally {
    await client.end();
  }
}

/**
 * The migrated template: a PGlite database with every migration applied, built once from the
 * real migrations and cached, that new embedded databases start as copies of.
 *
 * Making a PGlite database from nothing runs initdb, 2–4 s on a quiet machine and far more under
 * load: most of a first `parley start`, and of every test file's setup. Copying the template's
 * data folder takes ~0.1 s, and an in-memory database made from it (`TemplateFS`) opens on
 * 0.4–0.5 s of CPU. Measured alternatives: loading a tarball of it into a data folder (~0.8 s)
 * is slower than copying the folder; into an in-memory database (PGlite's `loadDataDir`, with a
 * zero-filled first WAL segment) it cost 1.5–1.7× the CPU; and `clone()` needs a running instance in the same process,
 * which a new process lacks.
 *
 * The cache is keyed by PGlite's version and the hash of every migration file, so a changed
 * migration or a new PGlite never reuses a stale database. A template whose migrations are a
 * prefix of the current ones is still used (migrations never change once landed): the caller's
 * `runMigrations` then applies the newer ones, as it does on every start. `npm ci` builds the
 * exact template (`scripts/build.mjs`); without it, the first use builds and caches it.
 *
 * It also holds pg-boss's schema and a queue per kind of job (jobs/install.ts), which a new
 * database otherwise builds at its first start (about 1.1 s of CPU on PGlite); the key has
 * pg-boss's version and the queues in it too.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { MemoryFS, PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { installJobSchema, pgliteExecutor } from '../jobs/install.js';
import { runMigrations } from './migrate.js';
import * as schema from './schema.js';
import { lookUpTemplate, type Template, type TemplateMeta, type TemplateOptions } from './template-find.js';
import type { Db } from './types.js';

const keyOf = (meta: TemplateMeta) => createHash('sha256').update(JSON.stringify(meta)).digest('hex').slice(0, 16);

/** Build the exact template in the first writable cache folder; null when none is writable. */
async function buildTemplate(meta: TemplateMeta, dirs: string[], migrationsFolder: string): Promise<Template | null> {
  for (const root of dirs) {
    let tmp: string;
    try {
      mkdirSync(root, { recursive: true });
      tmp = mkdtempSync(path.join(root, '.build-'));
    } catch {
      continue;
    }
    try {
      const client = await PGlite.create({ dataDir: path.join(tmp, 'pgdata') });
      try {
        // Straight on the driver, not through openDatabase (index.ts), which uses this module.
        const db = drizzle(client, { schema }) as unknown as Db;
        await runMigrations({ db, driver: { kind: 'pglite', client } }, migrationsFolder);
        await installJobSchema(pgliteExecutor(client));
        // initdb's template0 and template1 serve CREATE DATABASE, which an embedded database never
        // runs (PGlite opens `postgres`). Without them the folder has a third of the files, and
        // each file is a create when a first start copies it: 0.44 ms apiece on a VM's ext4,
        // most of the copy's 0.4–1.3 s.
        for (const name of ['template0', 'template1']) {
          await client.exec(`alter database ${name} is_template false`);
          await client.exec(`drop database ${name}`);
        }
        // The WAL segments past the current one are empty files PostgreSQL made ahead of need
        // (16 MB of zeros each, a third of the folder): every new database would load them.
        await client.exec('checkpoint');
        const { rows } = await client.query<{ file: string }>(
          'select pg_walfile_name(pg_current_wal_insert_lsn()) as file',
        );
        const current = rows[0]?.file ?? '';
        await client.close();
        // The shutdown's checkpoint may have made one.
        dropFutureWal(path.join(tmp, 'pgdata'), current);
      } finally {
        if (!client.closed) await client.close();
      }
      // meta.json last: a folder without it is ignored, so a half-built template is never used.
      writeFileSync(path.join(tmp, 'meta.json'), `${JSON.stringify(meta)}\n`);
      const dir = path.join(root, keyOf(meta));
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // Another process (a parallel test file) finished the same template first: use theirs.
        if (!existsSync(path.join(dir, 'meta.json'))) throw e;
        rmSync(tmp, { recursive: true, force: true });
      }
      return { dir, migrations: meta.migrations.length, jobs: true };
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  return null;
}

/**
 * Delete the WAL segments named after `current`: ones PostgreSQL pre-allocated or recycled for
 * later, which it makes again when it gets there. Only a stopped or idle server's folder.
 */
function dropFutureWal(pgdata: string, current: string): void {
  if (!current) return;
  const wal = path.join(pgdata, 'pg_wal');
  for (const name of readdirSync(wal)) {
    if (/^[0-9A-F]{24}$/.test(name) && name > current) rmSync(path.join(wal, name));
  }
}

/**
 * The template to start a new database from: the cached one with the most of the current
 * migrations, or a new one built now (and cached) when none is usable. Null only when no cache
 * folder is writable; the caller then starts from an empty database.
 */
export async function databaseTemplate(opts: TemplateOptions = {}): Promise<Template | null> {
  const { meta, dirs, migrationsFolder, found } = lookUpTemplate(opts);
  // One made before templates held the job schema is built again, once: its copies would each
  // spend a second building what the new one holds.
  return found?.jobs ? found : ((await buildTemplate(meta, dirs, migrationsFolder)) ?? found);
}

/**
 * Build the exact template for the current migrations if it is not cached yet, and delete
 * cached templates made from other migrations or another PGlite. `npm ci` runs it.
 */
export async function prepareDatabaseTemplate(opts: TemplateOptions = {}): Promise<Template | null> {
  const { meta, dirs, migrationsFolder, found } = lookUpTemplate(opts);
  const template =
    found?.migrations === meta.migrations.length && found.jobs
      ? found
      : await buildTemplate(meta, dirs, migrationsFolder);
  if (template) {
    const root = path.dirname(template.dir);
    for (const name of readdirSync(root)) {
      if (name !== path.basename(template.dir) && !name.startsWith('.build-'))
        rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
  return template;
}

/** A template's folder, read once: its directories (parents first) and its files. */
interface TemplateFiles {
  dirs: string[];
  files: { path: string; data: Uint8Array }[];
}

const read = new Map<string, TemplateFiles>();

function templateFiles(template: Template): TemplateFiles {
  let got = read.get(template.dir);
  if (!got) {
    const root = path.join(template.dir, 'pgdata');
    got = { dirs: [], files: [] };
    for (const name of readdirSync(root, { recursive: true })) {
      const file = path.join(root, String(name));
      const rel = String(name).split(path.sep).join('/');
      if (statSync(file).isDirectory()) got.dirs.push(rel);
      else got.files.push({ path: rel, data: new Uint8Array(readFileSync(file)) });
    }
    got.dirs.sort((a, b) => a.split('/').length - b.split('/').length);
    read.set(template.dir, got);
  }
  return got;
}

/** Where PGlite's PostgreSQL finds its data folder in its own (Emscripten) file system. */
const PGDATA = '/pglite/data';

/**
 * An in-memory database's file system, filled with the template's files before PostgreSQL
 * starts (which then finds a database and opens it). Each database gets its own copy of every
 * file, from bytes read once per process. PGlite's own `loadDataDir` untars a tarball instead,
 * looking up every parent folder of every file on the way, and copying each file twice: an open
 * took 0.68–0.75 s of CPU that way, 0.40–0.49 s this way together with `wal_init_zero` off
 * (index.ts) (medians of 10, two interleaved pairs, a quiet machine).
 */
export class TemplateFS extends MemoryFS {
  readonly #files: TemplateFiles;
  constructor(template: Template) {
    super();
    this.#files = templateFiles(template);
  }
  override async initialSyncFs(): Promise<void> {
    const fs = (this.pg as PGlite).Module.FS;
    fs.mkdirTree(PGDATA, 0o700);
    for (const dir of this.#files.dirs) fs.mkdir(`${PGDATA}/${dir}`, 0o700);
    // `canOwn`: the file system keeps this copy as the file's contents, without another.
    for (const f of this.#files.files)
      fs.writeFile(`${PGDATA}/${f.path}`, f.data.slice(), { mode: 0o600, canOwn: true });
  }
}

/**
 * A data folder's embedded database, opened with little loaded: node's built-ins, the template
 * lookup and the thread's handle. `parley start` opens it first thing (the package's
 * `@parley/server/data-folder`), so the database's thread copies a first start's template and
 * boots PGlite while this thread loads the server; `openDatabase` then takes the open as it is
 * (`DatabaseOptions.dataFolder`) or makes it itself.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { needsCopy } from './copy-tree.js';
import { PgliteThread } from './pglite-thread.js';
import { lookUpTemplate, type TemplateOptions } from './template-find.js';
import type { Database } from './types.js';

/** A data folder's shared buffers when `PARLEY_PGLITE_SHARED_BUFFERS` does not say. */
export const DATA_FOLDER_SHARED_BUFFERS = '32MB';

/**
 * PostgreSQL's settings for a data folder beside PGlite's own: its shared buffers are
 * `PARLEY_PGLITE_SHARED_BUFFERS` (a size such as `64MB`), else DATA_FOLDER_SHARED_BUFFERS.
 * They are set up at every start, so fewer start sooner (docs/benchmarks.md, First start);
 * pages past them are read from the folder's files, through the operating system's cache.
 */
export function dataFolderParams(env: NodeJS.ProcessEnv = process.env): string[] {
  const v = env.PARLEY_PGLITE_SHARED_BUFFERS?.trim() || DATA_FOLDER_SHARED_BUFFERS;
  const m = /^(\d{1,6})\s*(kB|MB|GB)$/.exec(v);
  const kb = m ? Number(m[1]) * ({ kB: 1, MB: 1024, GB: 1024 * 1024 } as const)[m[2] as 'kB' | 'MB' | 'GB'] : 0;
  // PostgreSQL's least is 128 kB; PGlite's memory is at most 2 GB, and the rest of PostgreSQL needs room in it.
  if (!m || kb < 128 || kb > 1024 * 1024)
    throw new Error(`PARLEY_PGLITE_SHARED_BUFFERS must be a size from 128kB to 1GB, such as 64MB (not "${v}")`);
  return ['-c', `shared_buffers=${m[1]}${m[2]}`];
}

/** The database's thread, booting; `madeFrom` when this open makes the database from the template. */
export interface DataFolderOpen {
  client: PgliteThread;
  madeFrom?: Database['madeFrom'];
}

/**
 * Start the database's thread on `dataDir/pgdata`: a new folder (or one whose copy did not
 * finish) is made from the template, unless `template` is false; an existing database is opened
 * as it is (and migrated after). Resolves before PGlite is up: statements wait for it there.
 */
export async function openDataFolder(dataDir: string, template: false | TemplateOptions = {}): Promise<DataFolderOpen> {
  const params = dataFolderParams();
  mkdirSync(dataDir, { recursive: true });
  const pgdata = path.join(dataDir, 'pgdata');
  if (template === false || !needsCopy(pgdata)) return { client: new PgliteThread({ dataDir: pgdata, params }) };
  // The cached template, found without loading PGlite; building one (none cached, or one from
  // before templates held the job schema) needs the rest of template.ts.
  const lookup = lookUpTemplate(template);
  const made = lookup.found?.jobs ? lookup.found : await (await import('./template.js')).databaseTemplate(template);
  if (!made) return { client: new PgliteThread({ dataDir: pgdata, params }) };
  return {
    client: new PgliteThread({ dataDir: pgdata, params, copyFrom: path.join(made.dir, 'pgdata') }),
    madeFrom: { migrationsFolder: lookup.migrationsFolder, migrations: made.migrations },
  };
}

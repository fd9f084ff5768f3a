/**
 * Which cached template (template.ts) a new data folder is made from, found with node's
 * built-ins only: a first `parley start` looks before the server, drizzle, pg-boss and PGlite
 * have loaded (data-folder.ts), so the database's thread starts copying it at once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { JOBS_TEMPLATE_TAG } from '../jobs/template-queues.js';
import { installedVersion } from '../package-version.js';
import { MIGRATIONS_FOLDER } from './migrate.js';

/** What a cached template holds: the PGlite it was made with and its migrations, in order. */
export interface TemplateMeta {
  pglite: string;
  migrations: string[];
  /** pg-boss's schema and queues in it (jobs/install.ts), by JOBS_TEMPLATE_TAG (jobs/template-queues.ts); none in older ones. */
  jobs?: string;
  /** How the folder is made (TEMPLATE_FORM); none: the first form, with initdb's template databases. */
  form?: number;
}

/**
 * 2: without initdb's template0 and template1; 3: without the WAL segments made ahead of need
 * (see template.ts, buildTemplate). An older form is built again.
 */
const TEMPLATE_FORM = 3;

/** A usable template: its folder (with the data folder, `pgdata/`) and how many migrations it has. */
export interface Template {
  dir: string;
  migrations: number;
  /** Whether it holds this pg-boss's schema and the current queues. */
  jobs: boolean;
}

/** Where templates are cached and which migrations they are made from (tests override both). */
export interface TemplateOptions {
  /** Default: `.template/` in the server package, or `~/.cache/parley/template` if that is read-only. */
  cacheDir?: string;
  migrationsFolder?: string;
}

// The data folder's format belongs to the PostgreSQL inside PGlite, so its version is part of the key.
const PGLITE_VERSION = installedVersion('@electric-sql/pglite');

/** The server package's folder: the nearest package.json above this file, from src/ or dist/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

function cacheDirs(opts: TemplateOptions): string[] {
  if (opts.cacheDir) return [opts.cacheDir];
  return [path.join(packageRoot(), '.template'), path.join(homedir(), '.cache', 'parley', 'template')];
}

/**
 * The current migrations, each as `when:hash of its SQL`, read as drizzle's migrator reads them
 * (it decides what to apply by `when`).
 */
function currentMigrations(folder: string): string[] {
  return readMigrationFiles({ migrationsFolder: folder }).map((m) => `${m.folderMillis}:${m.hash}`);
}

/** The cached template with the most of the current migrations (and no others), if there is one. */
function findTemplate(wanted: TemplateMeta, dirs: string[]): Template | null {
  let best: Template | null = null;
  for (const root of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of entries) {
      const dir = path.join(root, name);
      let meta: TemplateMeta;
      try {
        meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as TemplateMeta;
      } catch {
        continue; // a build in progress, or not ours
      }
      if (meta.pglite !== wanted.pglite || meta.migrations.length > wanted.migrations.length) continue;
      if (meta.form !== wanted.form) continue;
      if (!meta.migrations.every((m, i) => m === wanted.migrations[i])) continue;
      // Another pg-boss's schema could be newer than this one reads; none at all is installed at start.
      if (meta.jobs !== undefined && meta.jobs !== wanted.jobs) continue;
      const found = { dir, migrations: meta.migrations.length, jobs: meta.jobs === wanted.jobs };
      if (
        !best ||
        found.migrations > best.migrations ||
        (found.migrations === best.migrations && found.jobs && !best.jobs)
      )
        best = found;
    }
    if (best?.migrations === wanted.migrations.length && best.jobs) return best;
  }
  return best;
}

/** What the template of the current migrations, pg-boss and PGlite is made from. */
function currentMeta(migrationsFolder: string): TemplateMeta {
  return {
    pglite: PGLITE_VERSION,
    migrations: currentMigrations(migrationsFolder),
    jobs: JOBS_TEMPLATE_TAG,
    form: TEMPLATE_FORM,
  };
}

/** What the current template is made from, where templates are cached, and the best one there. */
export interface TemplateLookup {
  meta: TemplateMeta;
  dirs: string[];
  migrationsFolder: string;
  found: Template | null;
}

export function lookUpTemplate(opts: TemplateOptions = {}): TemplateLookup {
  const migrationsFolder = opts.migrationsFolder ?? MIGRATIONS_FOLDER;
  const meta = currentMeta(migrationsFolder);
  const dirs = cacheDirs(opts);
  return { meta, dirs, migrationsFolder, found: findTemplate(meta, dirs) };
}

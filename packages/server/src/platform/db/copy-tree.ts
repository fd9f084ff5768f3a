/**
 * A first start's copy of the migrated template into the new data folder (pglite-worker.ts
 * runs it on the embedded database's thread, beside PGlite's boot).
 *
 * The folder is marked while the copy runs and PostgreSQL's `PG_VERSION` is copied last, so a
 * start that dies halfway leaves a folder the next start recognises and copies again, never one
 * PGlite would take for a database.
 */
import { constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Present in a data folder's `pgdata` while its copy from the template is not complete. */
export const COPYING_MARK = '.parley-copying';

/** `pgdata` needs the template: it does not exist yet, or a copy into it did not finish. */
export function needsCopy(pgdata: string): boolean {
  return !existsSync(pgdata) || existsSync(path.join(pgdata, COPYING_MARK));
}

/**
 * Empty `to` and mark it, at once (before PGlite mounts it); the promise settles when `from`'s
 * files are all in it, the mark removed.
 */
export function copyFolder(from: string, to: string): Promise<void> {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  writeFileSync(path.join(to, COPYING_MARK), '');
  return copyTree(from, to).then(() => rm(path.join(to, COPYING_MARK)));
}

/**
 * Several files at a time: a data folder is ~1,100 mostly small files, and one at a time took
 * twice as long as 8 in flight on libuv's threads. FICLONE: a copy-on-write clone where the
 * file system has it, an ordinary copy elsewhere.
 */
async function copyTree(from: string, to: string): Promise<void> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    await mkdir(path.join(to, rel), { recursive: true });
    for (const e of await readdir(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else if (r !== 'PG_VERSION') files.push(r);
    }
  };
  await walk('');
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++] as string;
      await copyFile(path.join(from, f), path.join(to, f), constants.COPYFILE_FICLONE);
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
  await copyFile(path.join(from, 'PG_VERSION'), path.join(to, 'PG_VERSION'), constants.COPYFILE_FICLONE);
}

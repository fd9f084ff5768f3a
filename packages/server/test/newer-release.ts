/**
 * Playing a newer release in tests of upgrades (docs/upgrading.md): this code's migrations
 * followed by made-up later ones, in a folder of their own, and releases to go with them. Apply
 * them with `runMigrations(db, { folder, version, releases })` as that release would.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS_FOLDER } from '../src/platform/db/migrate.js';
import type { Release } from '../src/platform/db/releases.js';

/** This code's migrations followed by `later` ones (tag, SQL), a minute apart; `remove()` deletes the folder. */
export function newerMigrations(later: [string, string][]): { folder: string; tags: string[]; remove(): void } {
  const folder = mkdtempSync(path.join(tmpdir(), 'parley-newer-'));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const file = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(file, 'utf8')) as {
    entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
  };
  let last = journal.entries.at(-1) as (typeof journal.entries)[number];
  for (const [tag, text] of later) {
    writeFileSync(path.join(folder, `${tag}.sql`), text);
    last = { idx: last.idx + 1, version: last.version, when: last.when + 60_000, tag, breakpoints: true };
    journal.entries.push(last);
  }
  writeFileSync(file, JSON.stringify(journal));
  return {
    folder,
    tags: journal.entries.map((e) => e.tag),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** A made-up release that ends at `lastMigration`. */
export const madeUpRelease = (version: string, lastMigration: string): Release => ({
  version,
  commit: '0'.repeat(40),
  lastMigration,
});

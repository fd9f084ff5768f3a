/**
 * Parley's releases, oldest first: each one's version, the commit its tag `v<version>` points at,
 * and the last migration it ships. Kept here, in the code, because tags need not travel with a
 * clone (CI's does not fetch them) while this file does; the release steps in docs/upgrading.md
 * add a line per release.
 *
 * What the server does with it: a migration newer than release R's last one must, by the
 * expand/contract rule, still work under R's code. So when this code applies a migration it
 * records, beside drizzle's journal (schema_history), the last migration of the newest release
 * that lacks it (`compatible_from`): an older server that finds a migration it does not know
 * starts if it knows that one, and refuses otherwise (see migrate.ts). The upgrade test builds
 * the last release from its commit (packages/cli/test/chaos/upgrade.chaos.test.ts).
 */

/** One published release. */
export interface Release {
  /** Semver, without the tag's `v`. */
  version: string;
  /** The full commit the tag `v<version>` points at (an ancestor of main). */
  commit: string;
  /** Its last migration's tag (`0037_slash_commands`): the schema it runs on. */
  lastMigration: string;
}

export const RELEASES: readonly Release[] = [
  { version: '0.1.0', commit: 'ceb6d1bd0e3831488912a5308ca4675484f39bfe', lastMigration: '0037_slash_commands' },
];

/**
 * The last migration of the newest release that does not ship `tag`, given every migration tag
 * in order: the oldest schema whose code may run on a database that has `tag` applied (null: no
 * release lacks it, so none older may run on it).
 */
export function compatibleFrom(
  tag: string,
  tags: readonly string[],
  releases: readonly Release[] = RELEASES,
): string | null {
  const at = tags.indexOf(tag);
  if (at < 0) throw new Error(`unknown migration ${tag}`);
  let found: string | null = null;
  for (const r of releases) {
    const last = tags.indexOf(r.lastMigration);
    if (last < 0)
      throw new Error(`release ${r.version} names migration ${r.lastMigration}, which is not in the journal`);
    if (last < at) found = r.lastMigration;
  }
  return found;
}

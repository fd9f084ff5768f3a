#!/usr/bin/env node
/**
 * The expand/contract rule of docs/upgrading.md, as far as it can be read from the SQL: during a
 * rolling upgrade the previous release's code runs on the new schema, so a migration newer than
 * the last release (packages/server/src/platform/db/releases.ts) may not, on a table or column
 * that release's schema has (its last migration's drizzle snapshot),
 *
 * - drop or rename the table, or drop, rename or retype the column,
 * - make the column NOT NULL, or drop its default (the old code's inserts may rely on either),
 *
 * unless the statement is marked as the contract step of a release whose code stopped using
 * that thing: a comment `-- parley:contract <version>` just before it, where <version> must be
 * a release already made (at or before the last one), so no code still running reads it.
 * A table or column added since the last release is free to change: no released code knows it.
 * Statements are read with PostgreSQL's own parser (libpg-query), not with patterns.
 *
 *   node scripts/check-migrations.mjs        # part of `npm run check`
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModule, parseSync } from 'libpg-query';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MIGRATIONS = path.join(ROOT, 'packages/server/src/platform/db/migrations');
const MARK = /--\s*parley:contract\s+(\d+\.\d+\.\d+)\b/;

/** Semver order of two `x.y.z` versions. */
function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The tables and columns of a drizzle snapshot: table → set of columns. */
function schemaOf(snapshot) {
  const out = new Map();
  for (const t of Object.values(snapshot.tables ?? {})) {
    if ((t.schema || 'public') !== 'public') continue;
    out.set(t.name, new Set(Object.keys(t.columns ?? {})));
  }
  return out;
}

const relname = (relation) => relation?.relname;

/**
 * What a statement breaks for code that knows `released` (table → columns): a list of
 * descriptions (empty when it is an expand step).
 */
function breaks(stmt, released) {
  const has = (t, c) => released.has(t) && (c === undefined || released.get(t).has(c));
  const found = [];
  if (stmt.AlterTableStmt && stmt.AlterTableStmt.objtype === 'OBJECT_TABLE') {
    const table = relname(stmt.AlterTableStmt.relation);
    for (const { AlterTableCmd: cmd } of stmt.AlterTableStmt.cmds ?? []) {
      if (!cmd) continue;
      const what = {
        AT_DropColumn: 'drops column',
        AT_AlterColumnType: 'changes the type of column',
        AT_SetNotNull: 'makes NOT NULL column',
        // With no `def`, the default is dropped; setting one is an expand step.
        AT_ColumnDefault: cmd.def ? null : 'drops the default of column',
      }[cmd.subtype];
      if (what && has(table, cmd.name)) found.push(`${what} ${table}.${cmd.name}`);
    }
  }
  if (stmt.RenameStmt) {
    const r = stmt.RenameStmt;
    const table = relname(r.relation);
    if (r.renameType === 'OBJECT_COLUMN' && has(table, r.subname)) found.push(`renames column ${table}.${r.subname}`);
    if (r.renameType === 'OBJECT_TABLE' && has(table)) found.push(`renames table ${table}`);
  }
  if (stmt.DropStmt && stmt.DropStmt.removeType === 'OBJECT_TABLE') {
    for (const o of stmt.DropStmt.objects ?? []) {
      const names = (o.List?.items ?? []).map((i) => i.String?.sval);
      const table = names.at(-1);
      if (has(table)) found.push(`drops table ${table}`);
    }
  }
  return found;
}

/**
 * Check every migration after `releases`' last one. `journal` is the migrations in order
 * ({tag}), `sqlOf(tag)` its text, `snapshotOf(tag)` its drizzle snapshot. Returns the problems,
 * one line each.
 */
export async function checkMigrations({ journal, sqlOf, snapshotOf, releases }) {
  await loadModule();
  const last = releases.at(-1);
  if (!last) return [];
  const at = journal.findIndex((e) => e.tag === last.lastMigration);
  if (at < 0) return [`releases.ts: release ${last.version} names ${last.lastMigration}, which is not in the journal`];
  const released = schemaOf(snapshotOf(last.lastMigration));
  const problems = [];
  for (const { tag } of journal.slice(at + 1)) {
    const text = sqlOf(tag);
    let parsed;
    try {
      parsed = parseSync(text);
    } catch (e) {
      problems.push(`${tag}: not valid SQL: ${e.message}`);
      continue;
    }
    let from = 0;
    for (const s of parsed.stmts ?? []) {
      const start = s.stmt_location ?? 0;
      const before = text.slice(from, start);
      from = start + (s.stmt_len ?? text.length - start);
      const found = breaks(s.stmt, released);
      if (found.length === 0) continue;
      const mark = MARK.exec(before);
      if (mark && compareVersions(mark[1], last.version) <= 0) continue;
      const why = mark
        ? `it is marked the contract step of ${mark[1]}, which is not released yet (the last release is ${last.version})`
        : `release ${last.version}'s code may still run on the database (mark it "-- parley:contract <version>" only once a release that no longer uses it has been made)`;
      for (const f of found) problems.push(`${tag}: ${f}, but ${why}`);
    }
  }
  return problems;
}

/** The repository's own migrations and releases. */
async function checkRepository() {
  const { register } = await import('tsx/esm/api');
  register();
  const { RELEASES } = await import(path.join(ROOT, 'packages/server/src/platform/db/releases.ts'));
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS, 'meta/_journal.json'), 'utf8')).entries;
  const idx = new Map(journal.map((e) => [e.tag, e.idx]));
  return checkMigrations({
    journal,
    releases: RELEASES,
    sqlOf: (tag) => readFileSync(path.join(MIGRATIONS, `${tag}.sql`), 'utf8'),
    snapshotOf: (tag) =>
      JSON.parse(
        readFileSync(path.join(MIGRATIONS, 'meta', `${String(idx.get(tag)).padStart(4, '0')}_snapshot.json`), 'utf8'),
      ),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = await checkRepository();
  if (problems.length) {
    console.error(`migrations break the expand/contract rule (docs/upgrading.md):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('migrations: ok (expand/contract against the last release)');
}

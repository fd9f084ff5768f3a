/**
 * Migration 0038 on a database that holds what it changes: migrated up to 0037 from nothing (so
 * slow: listed in vitest.config.ts's slowFiles), given a group whose handle is someone's username,
 * as the old rule let in, then migrated on.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/platform/db/migrate.js';
import { ownDatabase } from './helpers.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const d of drops.splice(0)) await d();
});

/** A copy of the migrations folder as it was up to migration `last` (its journal cut there). */
function migrationsUpTo(last: number): { folder: string; remove(): void } {
  const folder = mkdtempSync(path.join(tmpdir(), 'parley-migrations-'));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalFile = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number }[] };
  journal.entries = journal.entries.filter((e) => e.idx <= last);
  writeFileSync(journalFile, JSON.stringify(journal));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

describe('0038: one @name per app', () => {
  it("renames a group whose handle is someone's username, says so in the audit log, and claims every name", {
    timeout: 180_000,
  }, async () => {
    const own = await ownDatabase({ migrate: false });
    drops.push(own.drop);
    const { database } = own;
    const before = migrationsUpTo(37);
    try {
      await runMigrations(database, before.folder);
    } finally {
      before.remove();
    }
    const db = database.db;
    const [app] = await rows<{ id: string }>(
      db,
      sql`insert into apps (id, name, api_key, api_secret_sealed) values (gen_random_uuid(), 'm', 'k-0038', 'sealed') returning id`,
    );
    const appId = app?.id as string;
    await db.execute(sql`insert into users (app_id, id, name, username) values
      (${appId}, 'ada', 'Ada', 'eng'), (${appId}, 'bob', 'Bob', 'Bob'), (${appId}, 'cy', 'Cy', null)`);
    // Two groups the old rule let in: `ENG` (ada's name, in another case), and `eng-group`, the
    // name the first would get, so it gets the next.
    await db.execute(sql`insert into user_groups (app_id, id, handle, name) values
      (${appId}, '00000000-0000-4000-8000-000000000001', 'ENG', 'Engineering'),
      (${appId}, '00000000-0000-4000-8000-000000000002', 'eng-group', 'Other'),
      (${appId}, '00000000-0000-4000-8000-000000000003', 'design', 'Design')`);

    expect((await runMigrations(database)).applied).toBeGreaterThan(0);

    expect(await rows(db, sql`select id, handle from user_groups where app_id = ${appId} order by id`)).toEqual([
      { id: '00000000-0000-4000-8000-000000000001', handle: 'ENG-group2' },
      { id: '00000000-0000-4000-8000-000000000002', handle: 'eng-group' },
      { id: '00000000-0000-4000-8000-000000000003', handle: 'design' },
    ]);
    expect(
      await rows(
        db,
        sql`select actor_kind, action, target_id, details from audit_log where app_id = ${appId} and action = 'user_group.updated'`,
      ),
    ).toEqual([
      {
        actor_kind: 'system',
        action: 'user_group.updated',
        target_id: '00000000-0000-4000-8000-000000000001',
        details: {
          before: { handle: 'ENG' },
          after: { handle: 'ENG-group2' },
          changed: ['handle'],
          reason: 'handle_was_a_username',
        },
      },
    ]);
    expect(
      await rows(db, sql`select name, user_id, group_id from mention_names where app_id = ${appId} order by name`),
    ).toEqual([
      { name: 'bob', user_id: 'bob', group_id: null },
      { name: 'design', user_id: null, group_id: '00000000-0000-4000-8000-000000000003' },
      { name: 'eng', user_id: 'ada', group_id: null },
      { name: 'eng-group', user_id: null, group_id: '00000000-0000-4000-8000-000000000002' },
      { name: 'eng-group2', user_id: null, group_id: '00000000-0000-4000-8000-000000000001' },
    ]);
  });
});

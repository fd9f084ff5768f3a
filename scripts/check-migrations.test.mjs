// scripts/check-migrations.mjs on planted migrations after a made-up release: each step that
// breaks the released code is named, a contract step marked with a release already made passes,
// one marked with a release still to come does not, and what no released code knows is free.
import { describe, expect, it } from 'vitest';
import { checkMigrations } from './check-migrations.mjs';

/** The released schema (0001's snapshot): users(id, name, nick, bio), messages(id, text), notes(id). */
const snapshot = {
  tables: {
    'public.users': { name: 'users', schema: '', columns: { id: {}, name: {}, nick: {}, bio: {} } },
    'public.messages': { name: 'messages', schema: '', columns: { id: {}, text: {} } },
    'public.notes': { name: 'notes', schema: '', columns: { id: {} } },
  },
};

async function check(later, releases = [{ version: '0.2.0', commit: 'c', lastMigration: '0001_base' }]) {
  const files = { '0000_start': 'CREATE TABLE "users" ("id" text);', '0001_base': 'SELECT 1;', ...later };
  return checkMigrations({
    journal: Object.keys(files).map((tag) => ({ tag })),
    releases,
    sqlOf: (tag) => files[tag],
    snapshotOf: (tag) => {
      if (tag !== '0001_base') throw new Error(`no snapshot asked for ${tag}`);
      return snapshot;
    },
  });
}

describe('check-migrations', () => {
  it('lets expand steps through: new tables and columns, defaults, indexes, triggers, plpgsql', async () => {
    expect(
      await check({
        '0002_expand': [
          'CREATE TABLE "later" ("id" text PRIMARY KEY, "tmp" text);',
          '--> statement-breakpoint',
          'ALTER TABLE "users" ADD COLUMN "email" text;',
          'ALTER TABLE "users" ALTER COLUMN "bio" SET DEFAULT \'\';',
          'ALTER TABLE "users" ALTER COLUMN "bio" DROP NOT NULL;',
          'CREATE INDEX "users_email_idx" ON "users" ("email");',
          'DO $$ BEGIN UPDATE users SET email = id; END $$;',
        ].join('\n'),
        // What no release has seen may change freely.
        '0003_change_the_new':
          'ALTER TABLE "later" DROP COLUMN "tmp"; ALTER TABLE "users" RENAME COLUMN "email" TO "mail"; DROP TABLE "later";',
      }),
    ).toEqual([]);
  });

  it('names every contract step on what the last release has', async () => {
    const problems = await check({
      '0002_contract': [
        'ALTER TABLE "users" DROP COLUMN "nick";',
        'ALTER TABLE users RENAME COLUMN name TO full_name;',
        'ALTER TABLE "messages" ALTER COLUMN "text" SET DATA TYPE varchar(100);',
        'ALTER TABLE "users" ALTER COLUMN "bio" SET NOT NULL;',
        'ALTER TABLE "users" ALTER COLUMN "id" DROP DEFAULT;',
        'ALTER TABLE "notes" RENAME TO "old_notes";',
        'DROP TABLE public.messages;',
      ].join('\n'),
    });
    expect(problems.map((p) => p.split(', but ')[0])).toEqual([
      '0002_contract: drops column users.nick',
      '0002_contract: renames column users.name',
      '0002_contract: changes the type of column messages.text',
      '0002_contract: makes NOT NULL column users.bio',
      '0002_contract: drops the default of column users.id',
      '0002_contract: renames table notes',
      '0002_contract: drops table messages',
    ]);
    expect(problems[0]).toContain("release 0.2.0's code may still run on the database");
  });

  it('lets a contract step through once the release that stopped using it is made, not before', async () => {
    const marked = (version) => ({
      '0002_contract': `-- The code stopped reading users.nick in ${version}.\n-- parley:contract ${version}\nALTER TABLE "users" DROP COLUMN "nick";\nALTER TABLE "users" DROP COLUMN "bio";`,
    });
    expect(await check(marked('0.2.0'))).toEqual([
      // The mark is for the statement after it only.
      expect.stringMatching(/^0002_contract: drops column users\.bio, but release 0\.2\.0's code/),
    ]);
    expect(await check(marked('0.1.5'))).toHaveLength(1);
    const early = await check(marked('0.3.0'));
    expect(early[0]).toMatch(
      /^0002_contract: drops column users\.nick, but it is marked the contract step of 0\.3\.0, which is not released yet/,
    );
  });

  it('fails SQL the parser cannot read, and a release that names no migration of the journal', async () => {
    expect(await check({ '0002_bad': 'ALTER TABLE users DROP COLUM nick;' })).toEqual([
      expect.stringMatching(/^0002_bad: not valid SQL: syntax error/),
    ]);
    expect(await check({}, [{ version: '0.2.0', commit: 'c', lastMigration: '0009_gone' }])).toEqual([
      'releases.ts: release 0.2.0 names 0009_gone, which is not in the journal',
    ]);
  });
});

/**
 * The people directory at scale: 10,000 users in one workspace (accounts with emails, 1% admins,
 * 5% guests sharing a channel with a few members, 2% deactivated), then a fixed mix of
 * directory queries through the real action (`queryPeople`, as `GET /v1/people` runs it) as a
 * member, as an admin and as a guest — prefix searches of 1–3 letters, surnames, usernames,
 * emails, role filters, the deactivated — and a walk of the whole directory page by page.
 *
 *   node --conditions=@parley/source --import tsx bench/people.ts [--users 10000] [--rounds 30]
 *        [--pg postgres://…] [--keep]
 *
 * PostgreSQL, in a database of its own (dropped at the end unless --keep). Loopback only. Each
 * query runs `--rounds` times, interleaved with the others; the table gives p50/p99 per query.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { QueryPeopleQuery } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildServer } from '../packages/server/src/app.js';
import { queryPeople } from '../packages/server/src/features/people/queries.js';
import type { Caller } from '../packages/server/src/platform/auth.js';
import { defaultConfig, NO_HTTP_LIMITS } from '../packages/server/src/platform/config.js';
import { openDatabase, rows } from '../packages/server/src/platform/db/index.js';
import { runMigrations } from '../packages/server/src/platform/db/migrate.js';
import { table } from './lib/report.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '30' },
    pg: { type: 'string', default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    keep: { type: 'boolean', default: false },
  },
});
const USERS = Number(values.users);
const ROUNDS = Number(values.rounds);
const log = (s: string) => process.stderr.write(`${s}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const n = (x: number) => sql.raw(String(Math.trunc(x)));

const FIRST =
  'Ada Alan Grace Barbara Edsger Donald Ken Dennis Linus Margaret Mary Maria Mario Marco Martin Mia Noah Olivia Liam Emma Ava Sophia Lucas Amelia Ethan Isla Oscar Leo Zoe Yuki Hana Ravi Priya Omar Fatima Chen Wei Ana Ines Jonas'.split(
    ' ',
  );
const LAST =
  'Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke Clark Turner Hill Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young Allen Mitchell James Anderson Phillips Lee Bell Parker Davis Zyl'.split(
    ' ',
  );

async function main(): Promise<void> {
  const url = values.pg as string;
  const name = `parley_people_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const version = (await admin.query('show server_version')).rows[0].server_version;
  const u = new URL(url);
  u.pathname = `/${name}`;
  const database = await openDatabase({ url: u.toString(), poolSize: 10 });
  const server = await buildServer(
    defaultConfig({
      dataDir: mkdtempSync(path.join(tmpdir(), 'parley-people-bench-')),
      adminToken: 'bench',
      logLevel: 'silent',
      httpLimits: NO_HTTP_LIMITS,
      masterKey: '42'.repeat(32),
      vacuumMinutes: 0,
    }),
    { database, migrate: false, logger: false },
  );
  try {
    await runMigrations(database);
    const app = await server.svc.apps.create('people-bench');
    const ctx = await server.svc.apps.byKey(app.api_key);
    if (!ctx) throw new Error('app not found');
    const t0 = performance.now();
    const exec = (q: ReturnType<typeof sql>) => database.db.execute(q);
    const first = sql.raw(`array[${FIRST.map((w) => `'${w}'`).join(',')}]`);
    const last = sql.raw(`array[${LAST.map((w) => `'${w}'`).join(',')}]`);
    // u0 is a plain member, u1 an admin, u2 a guest; then every 100th an admin, every 20th a guest.
    await exec(sql`insert into users (app_id, id, name, username, role)
      select ${app.id}, 'u' || i,
        (${first})[1 + (i * 7) % ${n(FIRST.length)}] || ' ' || (${last})[1 + (i * 13) % ${n(LAST.length)}],
        lower((${first})[1 + (i * 7) % ${n(FIRST.length)}]) || '.' || lower((${last})[1 + (i * 13) % ${n(LAST.length)}]) || i,
        case when i = 1 or (i > 2 and i % 100 = 0) then 'admin' when i = 2 or (i > 2 and i % 20 = 0) then 'guest' else 'user' end
      from generate_series(0, ${n(USERS - 1)}) i`);
    await exec(sql`insert into accounts (id, email, name, password_hash)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
        'person' || i || '@example.com', 'P ' || i, 'x'
      from generate_series(0, ${n(USERS - 1)}) i`);
    await exec(sql`insert into workspaces (app_id) values (${app.id})`);
    await exec(sql`insert into workspace_members (app_id, account_id, user_id, role, deactivated_at)
      select ${app.id}, ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'u' || i,
        case when i = 1 or (i > 2 and i % 100 = 0) then 'admin' when i = 2 or (i > 2 and i % 20 = 0) then 'guest' else 'member' end,
        case when i > 2 and i % 50 = 7 then now() end
      from generate_series(0, ${n(USERS - 1)}) i`);
    // The guest shares one channel of 40 people.
    await exec(sql`insert into channels (app_id, cid, type, id, name, member_count)
      values (${app.id}, 'group:guests', 'group', 'guests', 'guests', 40)`);
    await exec(sql`insert into members (app_id, cid, user_id, role)
      select ${app.id}, 'group:guests', 'u' || i, 'member' from generate_series(2, 41) i`);
    // Some time zones, as notification settings.
    await exec(sql`insert into notification_settings (app_id, user_id, time_zone)
      select ${app.id}, 'u' || i, 'Europe/Paris' from generate_series(0, ${n(USERS - 1)}, 3) i`);
    await exec(sql`analyze`);
    log(`seeded ${USERS.toLocaleString('en')} people in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const as = (userId: string): Caller => ({ kind: 'user', app: ctx, userId });
    const member = as('u0');
    const adminCaller = as('u1');
    const guest = as('u2');
    const MIX: [string, Caller, QueryPeopleQuery][] = [
      ['first page, member', member, {}],
      ['first page, admin', adminCaller, {}],
      ['q=m (1 letter)', member, { q: 'm' }],
      ['q=ma (2 letters)', member, { q: 'ma' }],
      ['q=mar (3 letters)', member, { q: 'mar' }],
      ['q=smi (surname word)', member, { q: 'smi' }],
      ['q=zyl (surname)', member, { q: 'zyl' }],
      ['q=ada.smith1 (username)', member, { q: 'ada.smith1' }],
      ['q=nobody (no match)', member, { q: 'nobody' }],
      ['q=person99 (email, admin)', adminCaller, { q: 'person99' }],
      ['role=admin', member, { role: 'admin' }],
      ['role=guest', member, { role: 'guest' }],
      ['deactivated, admin', adminCaller, { deactivated: true }],
      ['guest viewer, first page', guest, {}],
      ['guest viewer, q=a', guest, { q: 'a' }],
    ];
    const times = new Map<string, number[]>();
    const counts = new Map<string, number>();
    for (let round = 0; round <= ROUNDS; round++)
      for (const [label, caller, q] of MIX) {
        const t = performance.now();
        const r = await queryPeople(server.svc, caller, { ...q, limit: 50 });
        const dt = performance.now() - t;
        if (round === 0) {
          counts.set(label, r.people.length);
          continue; // warm-up
        }
        times.set(label, [...(times.get(label) ?? []), dt]);
      }
    // The whole directory, page by page, as a member and as an admin.
    const walks: [string, Caller][] = [
      ['walk, member, 50/page', member],
      ['walk, admin, 100/page', adminCaller],
    ];
    const walkRows: (string | number)[][] = [];
    for (const [label, caller] of walks) {
      const limit = label.includes('100') ? 100 : 50;
      const pages: number[] = [];
      let total = 0;
      const tw = performance.now();
      let cursor: string | null = null;
      do {
        const t = performance.now();
        const r = await queryPeople(server.svc, caller, { limit, ...(cursor ? { cursor } : {}) });
        pages.push(performance.now() - t);
        total += r.people.length;
        cursor = r.next;
      } while (cursor);
      walkRows.push([
        label,
        pages.length,
        total,
        pct(pages, 50).toFixed(2),
        pct(pages, 99).toFixed(2),
        (performance.now() - tw).toFixed(0),
      ]);
    }
    const plan = (
      await rows<{ 'QUERY PLAN': string }>(
        database.db,
        sql`explain select u.id from users u where u.app_id = ${app.id} and u.deleted_at is null
          order by lower(u.name), u.id limit 51`,
      )
    ).map((r) => r['QUERY PLAN']);
    console.log(`\nPeople directory, ${USERS.toLocaleString('en')} people, PostgreSQL ${version}, ${ROUNDS} rounds\n`);
    console.log(
      table(
        ['query (limit 50)', 'rows', 'p50 ms', 'p99 ms'],
        MIX.map(([label]) => {
          const xs = times.get(label) ?? [];
          return [label, counts.get(label) ?? 0, pct(xs, 50).toFixed(2), pct(xs, 99).toFixed(2)];
        }),
      ),
    );
    console.log('');
    console.log(table(['walk', 'pages', 'people', 'page p50 ms', 'page p99 ms', 'total ms'], walkRows));
    console.log(`\nplan of the first page's order:\n${plan.map((l) => `    ${l}`).join('\n')}`);
  } finally {
    await server.app.close();
    await database.close();
    if (!values.keep) await admin.query(`drop database if exists ${name} with (force)`);
    else log(`kept database ${name}`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

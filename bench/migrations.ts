/**
 * How long each pending migration stalls sends (docs/upgrading.md, "never block sends for long").
 * For every migration newer than the last release (packages/server/src/platform/db/releases.ts),
 * and the last `--last` migrations whatever they are (so there is always something to measure),
 * a scratch PostgreSQL database is migrated to just before it and filled with a realistic volume
 * (`--messages` messages with their event-log rows over 100 channels, made by INSERT … SELECT
 * generate_series); then `--senders` raw clients send into it the way the send path writes (one
 * transaction: the channel's counter row, the message, its event-log row) while the migration
 * runs, as it does during a rolling upgrade with the other node serving. Reported per migration:
 * how long it ran, the longest send that overlapped it, and the longest send before it.
 *
 *   node --conditions=@parley/source --import tsx bench/migrations.ts \
 *        [--pg postgres://…] [--messages 200000] [--last 4] [--senders 8] [--json FILE]
 *
 * PostgreSQL only: on PGlite, migrations run at start, before the node serves anything.
 * Loopback only; bounded by the migrations it measures.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../packages/server/src/platform/db/index.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../packages/server/src/platform/db/migrate.js';
import { RELEASES } from '../packages/server/src/platform/db/releases.js';

const { values } = parseArgs({
  options: {
    pg: { type: 'string', default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    messages: { type: 'string', default: '200000' },
    last: { type: 'string', default: '4' },
    senders: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const SENDERS = Number(values.senders);
const CHANNELS = 100;
const USERS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const journal = (
  JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries;
const tags = journal.map((e) => e.tag);

/** The migrations to measure, by index: newer than the last release, and the last `--last`. */
function measured(): number[] {
  const release = RELEASES.at(-1);
  const after = release ? tags.indexOf(release.lastMigration) + 1 : tags.length;
  const from = Math.min(after, Math.max(0, tags.length - Number(values.last)));
  return tags.map((_, i) => i).filter((i) => i >= from);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'parley-bench-migrations-'));
/** A migrations folder whose journal ends at index `last`. */
function folderUpTo(last: number): string {
  const dir = path.join(scratch, `upto-${last}`);
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const file = path.join(dir, 'meta/_journal.json');
  const j = JSON.parse(readFileSync(file, 'utf8')) as { entries: unknown[] };
  j.entries = j.entries.slice(0, last + 1);
  writeFileSync(file, JSON.stringify(j));
  return dir;
}

/** The volume a running deployment has: an app, users, channels with members, messages and their log. */
async function fill(pool: pg.Pool): Promise<string> {
  const appId = randomUUID();
  await pool.query(`insert into apps (id, name, api_key, api_secret_sealed) values ($1, 'bench', $2, 'sealed')`, [
    appId,
    `k-${randomBytes(6).toString('hex')}`,
  ]);
  await pool.query(
    `insert into users (app_id, id, name) select $1, 'u' || g, 'User ' || g from generate_series(1, ${USERS}) g`,
    [appId],
  );
  await pool.query(
    `insert into channels (app_id, cid, type, id) select $1, 'group:c' || g, 'group', 'c' || g from generate_series(1, ${CHANNELS}) g`,
    [appId],
  );
  await pool.query(
    `insert into members (app_id, cid, user_id) select $1, 'group:c' || c, 'u' || u
     from generate_series(1, ${CHANNELS}) c, generate_series(1, 10) k, lateral (select (c * 7 + k) % ${USERS} + 1 as u) x`,
    [appId],
  );
  // In slices, so no one statement holds a huge transaction.
  const per = Math.ceil(MESSAGES / CHANNELS);
  for (let c0 = 1; c0 <= CHANNELS; c0 += 10) {
    const c1 = Math.min(CHANNELS, c0 + 9);
    await pool.query(
      `insert into messages (app_id, id, cid, seq, user_id, type, text, created_at, updated_at)
       select $1, gen_random_uuid(), 'group:c' || c, s, 'u' || ((c + s) % ${USERS} + 1), 'regular',
         'message ' || s || ' in channel ' || c || ', some words to index like any other text',
         now() - make_interval(secs => ${per} - s), now() - make_interval(secs => ${per} - s)
       from generate_series(${c0}, ${c1}) c, generate_series(1, ${per}) s`,
      [appId],
    );
    await pool.query(
      `insert into channel_events (app_id, cid, seq, type, payload, created_at)
       select $1, 'group:c' || c, s, 'message.new', jsonb_build_object('type', 'message.new', 'seq', s), now()
       from generate_series(${c0}, ${c1}) c, generate_series(1, ${per}) s`,
      [appId],
    );
  }
  await pool.query(`update channels set last_seq = ${per}, last_message_at = now() where app_id = $1`, [appId]);
  await pool.query('analyze');
  return appId;
}

interface Send {
  start: number;
  end: number;
}

/** `SENDERS` loops of raw sends until `stop()`; every send's times. */
function startSenders(pool: pg.Pool, appId: string): { sends: Send[]; errors: string[]; stop(): Promise<void> } {
  const sends: Send[] = [];
  const errors: string[] = [];
  let running = true;
  const loops = Array.from({ length: SENDERS }, async (_, i) => {
    for (let n = 0; running; n++) {
      const cid = `group:c${((i * 31 + n * 7) % CHANNELS) + 1}`;
      const start = performance.now();
      const client = await pool.connect();
      try {
        await client.query('begin');
        const r = await client.query<{ last_seq: number }>(
          'update channels set last_seq = last_seq + 1, last_message_at = now() where app_id = $1 and cid = $2 returning last_seq',
          [appId, cid],
        );
        const seq = r.rows[0]?.last_seq;
        await client.query(
          `insert into messages (app_id, id, cid, seq, user_id, type, text, created_at, updated_at)
           values ($1, $2, $3, $4, 'u1', 'regular', $5, now(), now())`,
          [appId, randomUUID(), cid, seq, `sent during the bench #${n}`],
        );
        await client.query(
          `insert into channel_events (app_id, cid, seq, type, payload, created_at)
           values ($1, $2, $3, 'message.new', '{}'::jsonb, now())`,
          [appId, cid, seq],
        );
        await client.query('commit');
        sends.push({ start, end: performance.now() });
      } catch (e) {
        await client.query('rollback').catch(() => {});
        errors.push((e as Error).message);
      } finally {
        client.release();
      }
    }
  });
  return {
    sends,
    errors,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

interface Row {
  migration: string;
  migrateMs: number;
  longestSendMs: number;
  sendsDuring: number;
  baselineMaxMs: number;
  errors: number;
}

async function main(): Promise<void> {
  const which = measured();
  const first = which[0];
  if (first === undefined) throw new Error('no migration to measure');
  const name = `parley_bench_mig_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: values.pg });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(values.pg as string);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 2 });
  const pool = new pg.Pool({ connectionString: url.toString(), max: SENDERS });
  const rows: Row[] = [];
  try {
    if (first > 0) await runMigrations(database, folderUpTo(first - 1));
    const t = performance.now();
    const appId = await fill(pool);
    console.log(
      `database at ${tags[first - 1] ?? 'nothing'} with ${MESSAGES} messages in ${CHANNELS} channels (${Math.round(performance.now() - t)} ms to fill); ${SENDERS} raw senders`,
    );
    for (const i of which) {
      const load = startSenders(pool, appId);
      await sleep(2_000); // the senders' pace without a migration, to compare with
      const m0 = performance.now();
      await runMigrations(database, folderUpTo(i));
      const m1 = performance.now();
      await sleep(1_000); // sends still waiting when the migration committed finish in this time
      await load.stop();
      const before = load.sends.filter((s) => s.end < m0);
      const during = load.sends.filter((s) => s.end > m0 && s.start < m1);
      const row: Row = {
        migration: tags[i] as string,
        migrateMs: Math.round(m1 - m0),
        longestSendMs: Math.round(Math.max(0, ...during.map((s) => s.end - s.start))),
        sendsDuring: during.length,
        baselineMaxMs: Math.round(Math.max(0, ...before.map((s) => s.end - s.start))),
        errors: load.errors.length,
      };
      rows.push(row);
      console.log(
        `${row.migration}: ran ${row.migrateMs} ms; longest send overlapping it ${row.longestSendMs} ms (${row.sendsDuring} sends); longest before it ${row.baselineMaxMs} ms${row.errors ? `; ${row.errors} failed sends: ${load.errors[0]}` : ''}`,
      );
    }
  } finally {
    await pool.end();
    await database.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
}

await main();

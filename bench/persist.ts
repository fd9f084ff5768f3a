/**
 * Persist throughput: messages stored per second through the real send action (access
 * check, seq from the counter row, insert, event log, commit), on PGlite and on PostgreSQL,
 * at a few concurrency levels — beside a baseline of the same number of bare one-row
 * INSERT transactions on the same database, so the table shows what the send path adds.
 *
 *   node --import tsx bench/persist.ts [--messages 2000] [--pg postgres://…]
 *
 * Loopback only; bounded by the message count.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildServer } from '../packages/server/src/app.js';
import { createChannel } from '../packages/server/src/features/channels/actions.js';
import { sendMessage } from '../packages/server/src/features/messages/actions.js';
import { type Caller, signToken } from '../packages/server/src/platform/auth.js';
import { defaultConfig } from '../packages/server/src/platform/config.js';
import { type Database, openDatabase } from '../packages/server/src/platform/db/index.js';
import { runMigrations } from '../packages/server/src/platform/db/migrate.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    pg: { type: 'string', default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
  },
});
const N = Number(values.messages);

interface Row {
  backend: string;
  path: string;
  concurrency: number;
  messages: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

async function runPool(total: number, concurrency: number, one: (i: number) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const s = performance.now();
        await one(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, perSecond: total / seconds, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function bench(backend: string, database: Database, levels: number[]): Promise<Row[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  const server = await buildServer(defaultConfig({ dataDir, adminToken: 'bench', logLevel: 'silent' }), {
    database,
    migrate: false,
    logger: false,
  });
  const rows: Row[] = [];
  try {
    const app = await server.svc.apps.create('bench');
    const appCtx = await server.svc.apps.byKey(app.api_key);
    if (!appCtx) throw new Error('app not found');
    const users = ['u1', 'u2', 'u3', 'u4'];
    await server.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'x-api-key': app.api_key, authorization: `Bearer ${await signToken(app.api_secret, null)}` },
      payload: { users: users.map((id) => ({ id, name: id })) },
    });
    await database.db.execute(
      sql`create table if not exists bench_baseline (id bigserial primary key, body text not null)`,
    );
    for (const c of levels) {
      // One channel per level, so each level starts from an empty counter row.
      const cid = `group:bench-${c}-${randomBytes(3).toString('hex')}`;
      const caller = (u: string): Caller => ({ kind: 'user', app: appCtx, userId: u });
      await createChannel(server.svc, caller('u1'), { type: 'group', id: cid.split(':')[1] as string, members: users });
      await sendMessage(server.svc, caller('u1'), cid, { text: 'warm up' });
      const r = await runPool(N, c, async (i) => {
        await sendMessage(server.svc, caller(users[i % users.length] as string), cid, {
          text: `message ${i} with a little text in it`,
        });
      });
      rows.push({ backend, path: 'send action', concurrency: c, messages: N, ...r });
      const b = await runPool(N, c, async (i) => {
        await database.db.transaction(async (tx) => {
          await tx.execute(sql`insert into bench_baseline (body) values (${`message ${i} with a little text in it`})`);
        });
      });
      rows.push({ backend, path: 'baseline: bare INSERT tx', concurrency: c, messages: N, ...b });
    }
    await database.db.execute(sql`drop table if exists bench_baseline`);
  } finally {
    await server.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

const all: Row[] = [];
process.stderr.write(`persist bench: ${N} messages per run\n`);
{
  const database = await openDatabase({});
  await runMigrations(database);
  process.stderr.write('  PGlite…\n');
  all.push(...(await bench('PGlite 0.5 (in process)', database, [1, 8])));
  await database.close();
}
if (!values['skip-pg']) {
  const url = values.pg as string;
  const name = `parley_bench_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const database = await openDatabase({ url: u.toString(), poolSize: 32 });
  try {
    await runMigrations(database);
    process.stderr.write('  PostgreSQL…\n');
    all.push(
      ...(await bench(
        `PostgreSQL ${(await admin.query('show server_version')).rows[0].server_version}`,
        database,
        [1, 8, 32],
      )),
    );
  } finally {
    await database.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

console.log('\n| backend | path | concurrency | messages | seconds | messages/s | p50 ms | p99 ms |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of all)
  console.log(
    `| ${r.backend} | ${r.path} | ${r.concurrency} | ${r.messages} | ${r.seconds.toFixed(2)} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
  );

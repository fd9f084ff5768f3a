/**
 * A data folder's PGlite on its own thread (src/platform/db/pglite-thread.ts): what the server
 * did with PGlite in its own thread must hold across the threads — statements in the order
 * sent, transactions that isolate and roll back, PostgreSQL's error fields, the parsers drizzle
 * gives per query — and what is new must fail clearly: a boot that fails, a thread that dies, a
 * first start's copy cut off halfway.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { COPYING_MARK } from '../../src/platform/db/copy-tree.js';
import { type Database, openDatabase, rows } from '../../src/platform/db/index.js';
import { PgliteThread } from '../../src/platform/db/pglite-thread.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'parley-pglite-thread-'));
const open: Database[] = [];
afterAll(async () => {
  for (const d of open) await d.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function folder(name: string): Promise<{ database: Database; thread: PgliteThread; dir: string }> {
  const dir = path.join(scratch, name);
  const database = await openDatabase({ dataDir: dir });
  open.push(database);
  const d = database.driver;
  if (d.kind !== 'pglite' || !(d.client instanceof PgliteThread)) throw new Error('not on a thread');
  return { database, thread: d.client, dir };
}

describe('a data folder’s PGlite on its own thread', () => {
  it('runs statements in the order sent, with drizzle’s parsers and PostgreSQL’s types', async () => {
    const { database, thread } = await folder('order');
    await thread.exec('create table t (n int primary key, at timestamptz not null, big bigint, b bytea)');
    // Sent without waiting: each must see the one before.
    const sent = Array.from({ length: 50 }, (_, i) =>
      thread.query('insert into t values ($1, now(), $2, $3) returning (select count(*) from t) as before', [
        i,
        2 ** 40 + i,
        Uint8Array.of(i, 255),
      ]),
    );
    const before = (await Promise.all(sent)).map((r) => (r.rows[0] as { before: number }).before);
    expect(before).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // bigint as a number (the server's parser), bytea as bytes, a timestamp as a Date…
    const [row] = (await thread.query<{ big: number; b: Uint8Array; at: Date }>('select * from t where n = 7')).rows;
    expect(row?.big).toBe(2 ** 40 + 7);
    expect([...(row?.b ?? [])]).toEqual([7, 255]);
    expect(row?.at).toBeInstanceOf(Date);
    // …but as text through drizzle, whose per-query parsers (functions) run on this side.
    const [viaDrizzle] = await rows<{ at: unknown }>(database.db, sql`select at from t where n = 7`);
    expect(typeof viaDrizzle?.at).toBe('string');
    // A leading byte order mark comes back (pglite-bom.ts holds on the thread too).
    const [bom] = (await thread.query<{ s: string }>('select $1::text as s', ['\ufeffhi'])).rows;
    expect(bom?.s).toBe('\ufeffhi');
  });

  it('isolates a transaction: a statement sent outside it waits for its end, and a throw rolls it back', async () => {
    const { database, thread } = await folder('tx');
    await thread.exec('create table k (id int primary key)');
    let outside: Promise<unknown> | undefined;
    const seen = await thread.transaction(async (tx) => {
      await tx.query('insert into k values (1)');
      outside = thread.query('select count(*)::int as n from k');
      // Time for the outside statement to reach the thread (nothing tells when it is queued):
      // were it run at once, it would count 1 row.
      await new Promise((r) => setTimeout(r, 50));
      await tx.query('insert into k values (2)');
      return (await tx.query<{ n: number }>('select count(*)::int as n from k')).rows[0]?.n;
    });
    expect(seen).toBe(2);
    // The statement sent during the transaction ran after its commit.
    expect(((await outside) as { rows: { n: number }[] }).rows[0]?.n).toBe(2);

    const failure = new Error('changed my mind');
    await expect(
      thread.transaction(async (tx) => {
        await tx.query('insert into k values (3)');
        throw failure;
      }),
    ).rejects.toBe(failure);
    // Through drizzle too, the way every action runs.
    await expect(
      database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into k values (4)`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    const left = (await thread.query<{ id: number }>('select id from k order by id')).rows.map((r) => r.id);
    expect(left).toEqual([1, 2]);
  });

  it('gives PostgreSQL’s error fields; a statement that failed inside a transaction fails its commit', async () => {
    const { thread } = await folder('errors');
    await thread.exec('create table u (id int constraint u_pk primary key)');
    await thread.query('insert into u values (1)');
    const err = (await thread.query('insert into u values (1)').catch((e: unknown) => e)) as Record<string, unknown>;
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: '23505', constraint: 'u_pk', table: 'u' });
    expect(String(err.message)).toMatch(/duplicate key/);
    // Caught inside and committed anyway: PGlite refuses the commit of an aborted transaction,
    // as on one thread, and nothing of it stays.
    await expect(
      thread.transaction(async (tx) => {
        await tx.query('insert into u values (1)').catch(() => {});
        await tx.query('insert into u values (2)').catch(() => {});
      }),
    ).rejects.toMatchObject({ code: '25P02' });
    const ids = (await thread.query<{ id: number }>('select id from u')).rows.map((r) => r.id);
    expect(ids).toEqual([1]);
  });

  it('a first start’s copy cut off halfway is made again; a boot that cannot happen fails every statement with its reason', async () => {
    // The mark a copy leaves until it ends: this folder holds a half copy.
    const dir = path.join(scratch, 'half');
    mkdirSync(path.join(dir, 'pgdata', 'base'), { recursive: true });
    writeFileSync(path.join(dir, 'pgdata', COPYING_MARK), '');
    writeFileSync(path.join(dir, 'pgdata', 'base', 'junk'), 'half a file');
    const database = await openDatabase({ dataDir: dir });
    open.push(database);
    expect(database.fresh).toBe(true);
    await database.ping();
    expect(existsSync(path.join(dir, 'pgdata', COPYING_MARK))).toBe(false);
    expect(existsSync(path.join(dir, 'pgdata', 'base', 'junk'))).toBe(false);
    expect(readdirSync(path.join(dir, 'pgdata'))).toContain('PG_VERSION');

    // A data folder PostgreSQL cannot use: pgdata is a file.
    const bad = path.join(scratch, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'pgdata'), 'not a folder');
    const broken = await openDatabase({ dataDir: bad, template: false });
    await expect(broken.ping()).rejects.toThrow();
    await expect(broken.db.execute(sql`select 1`)).rejects.toThrow();
    await broken.close();
  });

  it('a thread that dies fails what waits and what comes after, naming it', async () => {
    const { thread } = await folder('killed');
    await thread.query('select 1');
    let release!: () => void;
    const held = thread.transaction(() => new Promise<void>((r) => (release = r)));
    held.catch(() => {});
    while (!release) await new Promise((r) => setTimeout(r, 5));
    // Queued on the thread behind the open transaction when the thread dies.
    const waiting = thread.query('select 1');
    // Time for it to reach the thread before the kill (nothing tells when it is queued there).
    await new Promise((r) => setTimeout(r, 50));
    await thread.kill();
    await expect(waiting).rejects.toThrow(/embedded database's thread ended/);
    release();
    await expect(held).rejects.toThrow(/embedded database's thread ended/);
    await expect(thread.query('select 1')).rejects.toThrow(/embedded database's thread ended/);
    expect(thread.closed).toBe(true);
  });

  it('holds the process open while a statement waits for its answer, and not after', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const src = path.join(here, '../../src/platform/db/index.ts');
    const dir = path.join(scratch, 'process');
    // Never closed: the process must still print the answer, then end by itself.
    const script = `const { openDatabase } = await import(${JSON.stringify(src)});
      const d = await openDatabase({ dataDir: ${JSON.stringify(dir)} });
      const r = await d.driver.client.query('select 41 + 1 as n');
      console.log('answer', r.rows[0].n);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('answer 42');
    expect(r.status).toBe(0);
  });
});

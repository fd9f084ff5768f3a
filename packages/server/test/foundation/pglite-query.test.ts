/**
 * A statement on PGlite in one trip (src/platform/db/pglite-query.ts) answers as PGlite's own
 * `query` does, and as PostgreSQL does for node-postgres: the same rows for every kind of
 * parameter the server sends, the same errors with their codes, the same transactions; it makes
 * one call into the backend where PGlite's makes six, and parses each statement text once.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keepByteOrderMarks } from '../../src/platform/db/pglite-bom.js';
import { oneTripClient, PGLITE_PLANS, queryOnce, STATEMENTS } from '../../src/platform/db/pglite-query.js';

let db: PGlite;

beforeAll(async () => {
  keepByteOrderMarks();
  // As the server starts PGlite: every run of a named statement planned as an unnamed one is.
  db = await PGlite.create({ startParams: [...PGlite.defaultStartParams, ...PGLITE_PLANS] });
  await db.exec(`
    create table t (
      id int primary key, name text, tags text[], nums int[], doc jsonb, raw json, bin bytea,
      at timestamptz, flag boolean, big bigint, n numeric
    );
  `);
});

afterAll(async () => {
  await db?.close();
});

describe('one trip', () => {
  it('reads back what it wrote, as PGlite’s own query reads it, for every kind of parameter', async () => {
    const one = oneTripClient(db);
    const at = new Date('2026-12-02T08:00:00.123Z');
    const row = [
      1,
      '\ufeffhé "quoted" \\ back',
      ['a', 'b,c', 'd"e', '', null],
      [1, 2, 3],
      JSON.stringify({ a: 1, b: [true, null], c: 'ü' }),
      { x: 1, y: 'two' },
      Buffer.from([0, 1, 2, 255]),
      at,
      true,
      9007199254740991n,
      '12.50',
    ];
    await one.query(
      'insert into t (id, name, tags, nums, doc, raw, bin, at, flag, big, n) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)',
      row,
    );
    const mine = await one.query('select * from t where id = $1', [1]);
    const theirs = await db.query('select * from t where id = $1', [1]);
    expect(mine.rows).toEqual(theirs.rows);
    expect(mine.fields).toEqual(theirs.fields);
    expect(mine.rows[0]).toMatchObject({
      name: '\ufeffhé "quoted" \\ back',
      tags: ['a', 'b,c', 'd"e', '', null],
      nums: [1, 2, 3],
      doc: { a: 1, b: [true, null], c: 'ü' },
      raw: { x: 1, y: 'two' },
      flag: true,
      n: '12.50',
    });
    expect((mine.rows[0] as { at: Date }).at.toISOString()).toBe(at.toISOString());
    expect(Buffer.from((mine.rows[0] as { bin: Uint8Array }).bin)).toEqual(Buffer.from([0, 1, 2, 255]));
    // Nulls and no parameters at all; the row count of a write.
    await one.query('insert into t (id, name) values ($1, $2)', [2, null]);
    const nulls = await one.query<{ name: string | null }>('select name from t where id = 2');
    expect(nulls.rows).toEqual([{ name: null }]);
    const updated = await one.query('update t set flag = $1 where id in (1, 2)', [false]);
    expect(updated.affectedRows).toBe(2);
  });

  it('keeps rowMode and per-query parsers', async () => {
    const arr = await queryOnce(db, 'select $1::int + 1 as a, $2::text as b', [41, 'x'], { rowMode: 'array' });
    expect(arr.rows).toEqual([[42, 'x']]);
    const text = await queryOnce(db, 'select $1::int as a', [7], { parsers: { 23: (v: string) => `int:${v}` } });
    expect(text.rows).toEqual([{ a: 'int:7' }]);
  });

  it('fails as PGlite does: the code, the statement on the error, and the database usable after', async () => {
    const one = oneTripClient(db);
    await one.query('insert into t (id) values ($1) on conflict do nothing', [10]);
    const err = await one.query('insert into t (id) values ($1)', [10]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '23505', query: 'insert into t (id) values ($1)', params: [10] });
    const bad = await one.query('select nope from t').catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: '42703' });
    expect((await one.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('runs in a transaction’s turn, commits and rolls back as PGlite’s transactions do', async () => {
    const one = oneTripClient(db);
    let outside: Promise<{ rows: unknown[] }> | undefined;
    await one.transaction(async (tx) => {
      await tx.query('insert into t (id, name) values ($1, $2)', [20, 'in tx']);
      // Outside the transaction, a statement waits for it to end: it sees the committed row.
      outside = one.query('select count(*)::int as n from t where id = 20');
      expect((await tx.query('select name from t where id = $1', [20])).rows).toEqual([{ name: 'in tx' }]);
    });
    expect((await outside)?.rows).toEqual([{ n: 1 }]);
    const rolled = await one
      .transaction(async (tx) => {
        await tx.query('insert into t (id, name) values ($1, $2)', [21, 'gone']);
        await tx.query('insert into t (id) values ($1)', [21]);
      })
      .catch((e: unknown) => e);
    expect(rolled).toMatchObject({ code: '23505' });
    expect((await one.query('select id from t where id in (20, 21) order by id')).rows).toEqual([{ id: 20 }]);
    // A transaction's query after it ended is refused, as PGlite refuses it.
    let kept: { query: PGlite['query'] } | undefined;
    await one.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept?.query('select 1')).rejects.toThrow(/closed/);
  });

  it('parses a statement once and binds it by name after, keeping at most the last STATEMENTS', async () => {
    const named = async (text: string) =>
      (
        await db.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements where statement = $1', [
          text,
        ])
      ).rows[0]?.n;
    const text = 'select id from t where id = $1';
    for (let i = 0; i < 3; i++) expect((await queryOnce(db, text, [1])).rows).toEqual([{ id: 1 }]);
    expect(await named(text)).toBe(1);
    // A bind that fails after the parse succeeded: prepared all the same, and runs again.
    const bad = await queryOnce(db, 'select id from t where id = $1 + 0', ['not a number']).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: '22P02' });
    expect((await queryOnce(db, 'select id from t where id = $1 + 0', [1])).rows).toEqual([{ id: 1 }]);
    // More texts than are kept: the least recently used are closed; the one in use stays.
    for (let i = 0; i < STATEMENTS + 20; i++) {
      await queryOnce(db, `select $1::int + ${i} as v`, [1]);
      if (i % 50 === 0) await queryOnce(db, text, [1]);
    }
    const all = await db.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements');
    expect(all.rows[0]?.n).toBeLessThanOrEqual(STATEMENTS);
    expect(await named(text)).toBe(1);
    expect(await named('select $1::int + 0 as v')).toBe(0);
  });

  it('runs a prepared text anew when its statement is gone or its table changed', async () => {
    const text = 'select * from t where id = $1';
    await queryOnce(db, text, [1]);
    await db.exec('deallocate all');
    expect((await queryOnce<{ id: number }>(db, text, [1])).rows[0]?.id).toBe(1);
    await db.exec('alter table t add column extra text');
    expect(Object.keys((await queryOnce(db, text, [1])).rows[0] as object)).toContain('extra');
  });

  it('leaves statements unnamed on a session that would plan a named one otherwise', async () => {
    const other = await PGlite.create();
    try {
      await queryOnce(other, 'select $1::int as a', [1]);
      await queryOnce(other, 'select $1::int as a', [2]);
      expect((await other.query('select count(*)::int as n from pg_prepared_statements')).rows).toEqual([{ n: 0 }]);
    } finally {
      await other.close();
    }
  });

  it('makes one call into the backend for a statement, where PGlite’s own query makes six', async () => {
    const spy = vi.spyOn(db as unknown as { execProtocolStream: () => Promise<unknown> }, 'execProtocolStream');
    await queryOnce(db, 'select $1::int as a', [1]);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockClear();
    await db.query('select $1::int as a', [1]);
    expect(spy).toHaveBeenCalledTimes(6);
    spy.mockRestore();
  });
});

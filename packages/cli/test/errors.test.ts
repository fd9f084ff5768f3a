/**
 * The CLI's one-line errors for database failures: a real error from a real (in-memory)
 * PGlite through drizzle carries the whole statement in its message; the line the CLI prints
 * must carry none of it.
 */
import { AppRegistry, createSealer, openDatabase, runMigrations } from '@parley/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, describeError, UsageError } from '../src/errors.js';

let database: Awaited<ReturnType<typeof openDatabase>>;
beforeAll(async () => {
  database = await openDatabase({});
  await runMigrations(database);
});
afterAll(async () => {
  await database?.close();
});

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('describeError', () => {
  it('maps a database error to its SQLSTATE, without SQL or column names', async () => {
    const apps = new AppRegistry(database.db, createSealer(Buffer.alloc(32, 1)));
    // Not a UUID: PostgreSQL refuses the parameter (22P02), and drizzle's message holds the query.
    const e = await caught(() => apps.secretOf('nope'));
    expect(String((e as Error).message)).toMatch(/select/i); // what used to be printed
    const { message, code } = describeError(e);
    expect(code).toBe(1);
    expect(message).toMatch(/^the database refused the operation \(SQLSTATE 22P02\)/);
    expect(message).not.toMatch(/select|api_secret_sealed|"apps"/i);
  });

  it('keeps the messages written for the operator, with their exit codes', () => {
    expect(describeError(new UsageError('--port needs a value'))).toEqual({ message: '--port needs a value', code: 2 });
    expect(describeError(new CliError('no app with id x'))).toEqual({ message: 'no app with id x', code: 1 });
  });

  it('prints only the first line of an unexpected error', () => {
    const { message } = describeError(new Error('boom\n    at secret (/x.ts:1:1)'));
    expect(message).toBe('boom');
  });
});

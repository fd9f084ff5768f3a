/**
 * Where the `parley import` tests import into: a data folder (or, in `postgres` mode, a scratch
 * PostgreSQL database) on which a real server made a workspace "Acme" for its owner through
 * the API, as a team moving in would have it. The server keeps running; the tests stop it
 * where the import needs the folder to itself.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { splitBackend } from '../../../scripts/test-split.mjs';
import { scratchDatabase } from './chaos/infra.js';
import { freePort, type Proc, ROOT, run, startServer, tempDir } from './spawn.js';

/**
 * The modes a test file imports in: PGlite always, PostgreSQL too where CI gives one; under
 * PARLEY_TEST_SPLIT (vitest.config.ts) one of the two, by a hash of the value and the file.
 */
export function importModes(fileUrl: string): ('pglite' | 'postgres')[] {
  if (!process.env.PARLEY_CHAOS_PG_URL) return ['pglite'];
  const split = process.env.PARLEY_TEST_SPLIT;
  if (!split) return ['pglite', 'postgres'];
  const file = path.relative(ROOT, fileURLToPath(fileUrl)).split(path.sep).join('/');
  return [splitBackend(split, file)];
}

export interface ImportTarget {
  /** A folder of the test's own (for export files). */
  dir: string;
  /** The data folder. */
  data: string;
  /** DATABASE_URL in `postgres` mode, else nothing. */
  dbEnv: NodeJS.ProcessEnv;
  port: number;
  server: Proc;
  workspace: string;
  /** The owner's user id in the workspace, and the headers of their API session. */
  ownerId: string;
  auth: Record<string, string>;
  /** `name` in `dir`, a zip of `entries`: its path. */
  zip(name: string, entries: Record<string, Uint8Array>): string;
  /** `parley import <kind> <file> --workspace … --data …` and `more`. */
  importFile(kind: 'slack' | 'mattermost', file: string, ...more: string[]): ReturnType<typeof run>;
}

export async function startImportTarget(
  mode: 'pglite' | 'postgres',
  owner: { email: string; name: string },
): Promise<ImportTarget> {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  const dbEnv: NodeJS.ProcessEnv =
    mode === 'postgres' ? { DATABASE_URL: (await scratchDatabase(process.env.PARLEY_CHAOS_PG_URL as string)).url } : {};
  const port = await freePort();
  const server = await startServer(port, data, dbEnv);
  const base = `http://127.0.0.1:${port}`;
  const origin = { origin: base, 'content-type': 'application/json' };
  const post = async (url: string, body: unknown, cookie?: string) => {
    const r = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { ...origin, ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return r;
  };
  const signup = await post('/v1/auth/signup', { ...owner, password: 'correct horse battery' });
  const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const ws = await post('/v1/workspaces', { name: 'Acme' }, cookie);
  const workspace = ((await ws.json()) as { workspace: { id: string } }).workspace.id;
  const session = (await (await post(`/v1/workspaces/${workspace}/session`, {}, cookie)).json()) as {
    user_id: string;
    token: string;
    api_key: string;
  };
  return {
    dir,
    data,
    dbEnv,
    port,
    server,
    workspace,
    ownerId: session.user_id,
    auth: { authorization: `Bearer ${session.token}`, 'x-api-key': session.api_key },
    zip(name, entries) {
      const file = path.join(dir, name);
      writeFileSync(file, zipSync(entries));
      return file;
    },
    importFile: (kind, file, ...more) =>
      run(['import', kind, file, '--workspace', workspace, '--data', data, ...more], dbEnv),
  };
}

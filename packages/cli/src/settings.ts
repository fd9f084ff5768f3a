/**
 * The little the CLI needs to know before it decides whether to load the server: where the
 * data folder is, which port to try, the admin token, whether PostgreSQL is configured.
 *
 * Read here rather than through `configFromEnv` of @parley/server, because importing the
 * server loads drizzle, PGlite, Fastify and the rest (about a second), and the commands that
 * only talk to a running server must answer in a fraction of that. The rules match
 * `configFromEnv` (an empty variable counts as unset, PARLEY_DATA_DIR is made absolute);
 * the paths that do load the server use `configFromEnv` itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePort, type Values } from './args.js';
import { CliError } from './errors.js';

export interface Settings {
  dataDir: string;
  port: number;
  databaseUrl: string | undefined;
  adminToken: string | undefined;
}

/** The environment as `configFromEnv` reads it, with the command line's flags on top. */
export function cliEnv(values: Values, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const e = { ...env };
  if (typeof values.port === 'string') e.PORT = values.port;
  if (typeof values.host === 'string') e.HOST = values.host;
  if (typeof values.data === 'string') e.PARLEY_DATA_DIR = values.data;
  return e;
}

export function settings(values: Values, env: NodeJS.ProcessEnv = process.env): Settings {
  const e = cliEnv(values, env);
  return {
    dataDir: path.resolve(e.PARLEY_DATA_DIR || '.parley'),
    port: e.PORT ? parsePort(e.PORT, typeof values.port === 'string' ? '--port' : 'PORT') : 3000,
    databaseUrl: e.DATABASE_URL || undefined,
    adminToken: e.PARLEY_ADMIN_TOKEN || undefined,
  };
}

/** The admin token: PARLEY_ADMIN_TOKEN, or the one the server generated into the data folder. */
export function adminToken(s: Settings): string {
  if (s.adminToken) return s.adminToken;
  const file = path.join(s.dataDir, 'admin-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new CliError(`no admin token: ${file} is missing and PARLEY_ADMIN_TOKEN is not set`);
  }
}

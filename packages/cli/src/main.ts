/**
 * `parley` — start a server, migrate, create apps, mint tokens.
 *
 *   parley start [--port N] [--host H] [--data DIR]
 *   parley migrate [--data DIR]
 *   parley app create --name NAME [--json]
 *   parley app list [--json]
 *   parley token --app APP_ID --user USER_ID [--expires 1h] | --server
 *
 * Environment: PORT, HOST, PARLEY_DATA_DIR, DATABASE_URL, REDIS_URL, PARLEY_ADMIN_TOKEN,
 * PARLEY_MASTER_KEY, LOG_LEVEL (README.md lists them all). While a server is running,
 * `app` and `token` go through its admin API: an embedded PGlite database belongs to the
 * one process that opened it.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  AppRegistry,
  type Config,
  configFromEnv,
  createSealer,
  hasWebApp,
  loadAdminToken,
  loadMasterKey,
  openDatabase,
  runMigrations,
  signToken,
  startServer,
} from '@parley/server';
import { startWorkers } from './workers.js';

const USAGE = `Usage:
  parley start [--port N] [--host H] [--data DIR] [--workers N]
  parley migrate [--data DIR]
  parley app create --name NAME [--json]
  parley app list [--json]
  parley token --app APP_ID (--user USER_ID | --server) [--expires 1h]
`;

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function config(values: { port?: string; host?: string; data?: string }): Config {
  const overrides: Partial<Config> = {};
  const env = { ...process.env };
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  if (values.data !== undefined) env.PARLEY_DATA_DIR = values.data;
  return configFromEnv(env, overrides);
}

/** The admin API of a server already running on this machine, if there is one. */
async function runningServer(cfg: Config): Promise<{ base: string; token: string } | null> {
  const base = `http://127.0.0.1:${cfg.port}`;
  try {
    const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(800) });
    if (!r.ok) return null;
  } catch {
    return null;
  }
  const token = cfg.adminToken ?? loadAdminToken(undefined, cfg.dataDir).token;
  return { base, token };
}

async function admin<T>(
  server: { base: string; token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const r = await fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await r.json()) as T & { error?: { message: string } };
  if (!r.ok) throw new Error(`server answered ${r.status}: ${json.error?.message ?? 'error'}`);
  return json;
}

/** Open the database directly (no server running), migrated, with the app registry. */
async function direct<T>(cfg: Config, fn: (apps: AppRegistry) => Promise<T>): Promise<T> {
  const database = await openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
  try {
    await runMigrations(database);
    return await fn(new AppRegistry(database.db, createSealer(loadMasterKey(cfg.masterKey, cfg.dataDir))));
  } finally {
    await database.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      app: { type: 'string' },
      user: { type: 'string' },
      server: { type: 'boolean' },
      expires: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, sub] = positionals;
  if (values.help || !cmd) {
    out(USAGE);
    return cmd ? 0 : 1;
  }
  const cfg = config(values);
  try {
    switch (cmd) {
      case 'start': {
        const workers =
          values.workers !== undefined
            ? Number(values.workers)
            : cfg.databaseUrl && cfg.redisUrl
              ? availableParallelism()
              : 1;
        if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers takes a whole number ≥ 1');
        if (workers > 1 || cluster.isWorker) return await startWorkers(cfg, workers);
        const started = Date.now();
        const s = await startServer(cfg, { handleSignals: true });
        out(
          `Parley is running at ${s.url} (${s.svc.database.kind}${cfg.databaseUrl ? '' : `, data in ${cfg.dataDir}`}) — ready in ${Date.now() - started} ms`,
        );
        out(`API docs: ${s.url}/docs`);
        out(
          hasWebApp(cfg.webDir)
            ? `Web app: ${s.url}/`
            : 'Web app: not built (npm run build -w @parley/web, or npm ci, builds it)',
        );
        if (s.admin.generated) out(`Admin token (kept in ${cfg.dataDir}/admin-token): ${s.admin.token}`);
        await new Promise(() => {}); // until a signal ends the process
        return 0;
      }
      case 'migrate': {
        const database = await openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
        try {
          const r = await runMigrations(database);
          out(`${r.applied} migration(s) applied; ${r.total} in all (${database.kind})`);
        } finally {
          await database.close();
        }
        return 0;
      }
      case 'app': {
        if (sub === 'create') {
          if (!values.name) throw new Error('app create needs --name NAME');
          const name = values.name;
          const server = await runningServer(cfg);
          const created = server
            ? await admin<{ id: string; api_key: string; api_secret: string }>(server, 'POST', '/v1/admin/apps', {
                name,
              })
            : await direct(cfg, (apps) => apps.create(name));
          const body = { id: created.id, api_key: created.api_key, api_secret: created.api_secret };
          out(
            values.json
              ? JSON.stringify(body)
              : `app ${body.id}\n  api_key:    ${body.api_key}\n  api_secret: ${body.api_secret}`,
          );
          return 0;
        }
        if (sub === 'list') {
          const server = await runningServer(cfg);
          const list = server
            ? (await admin<{ apps: { id: string; name: string; api_key: string }[] }>(server, 'GET', '/v1/admin/apps'))
                .apps
            : await direct(cfg, (apps) => apps.list());
          out(values.json ? JSON.stringify(list) : list.map((a) => `${a.id}  ${a.api_key}  ${a.name}`).join('\n'));
          return 0;
        }
        throw new Error('usage: parley app create --name NAME [--json] | parley app list');
      }
      case 'token': {
        if (!values.app || (!values.user && !values.server))
          throw new Error('token needs --app APP_ID and --user USER_ID (or --server)');
        const appId = values.app;
        const userId = values.server ? null : (values.user ?? null);
        const server = await runningServer(cfg);
        let token: string;
        if (server) {
          token = (
            await admin<{ token: string }>(server, 'POST', `/v1/admin/apps/${encodeURIComponent(appId)}/tokens`, {
              user_id: userId,
              ...(values.expires ? { expires_in: values.expires } : {}),
            })
          ).token;
        } else {
          const secret = await direct(cfg, (apps) => apps.secretOf(appId));
          if (!secret) throw new Error(`no app ${appId}`);
          token = await signToken(secret, userId, values.expires ? { expiresIn: values.expires } : {});
        }
        out(token);
        return 0;
      }
      default:
        err(USAGE);
        return 1;
    }
  } catch (e) {
    err(`parley: ${(e as Error).message}`);
    return 1;
  }
}

/**
 * `parley start`. Before anything opens the database:
 *
 * 1. On PGlite, take the data folder's lock (`owner-lock.ts`): a second server on the same
 *    folder is refused at once, naming the first; a command finishing its work there is
 *    waited for.
 * 2. Check that the port is free, so a taken port fails in a moment with one line instead of
 *    after migrating (and, before, hanging with the database open).
 * 3. Start, then mark the lock `ready` with the real port: from then on the other commands
 *    use this server's admin API.
 *
 * Under `npm exec` / `npx` / `npm start` the process runs as npm → sh → node. Killing npm
 * (`kill %1` after `npx parley start &`) reaches the shell, which dies and leaves the server
 * running with nobody to stop it; so when npm started us, we watch those ancestors and shut
 * down gracefully when one of them goes.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Values } from './args.js';
import { CliError } from './errors.js';
import { describeOwner, type HeldLock } from './owner-lock.js';
import { takeFolder } from './reach.js';
import { cliEnv, settings } from './settings.js';

const out = (s: string) => process.stdout.write(`${s}\n`);

export async function start(values: Values): Promise<number> {
  const s = settings(values);
  const env = cliEnv(values);
  const host = env.HOST || '127.0.0.1';
  const isWorker = cluster.isWorker;
  let lock: HeldLock | null = null;
  let up = false;
  // Until the server handles signals itself, a signal ends the start at once (and the exit
  // hook releases the lock).
  const early = (signal: NodeJS.Signals) => {
    if (!up) process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  if (!isWorker) {
    process.once('SIGTERM', early);
    process.once('SIGINT', early);
    watchNpmAncestors();
  }
  // The data folder holds PGlite's database only without DATABASE_URL; on PostgreSQL many
  // nodes share the database, and the folder's files (master.key, admin-token) are created
  // exclusively and only read afterwards, so they need no owner.
  if (!s.databaseUrl && !isWorker) {
    lock = await takeFolder(
      s,
      { kind: 'start', command: 'start', port: s.port, listen_host: host },
      (owner) =>
        `${s.dataDir} is in use by ${describeOwner(owner)}; stop it first, or give this one another --data folder`,
    );
  }
  if (!isWorker && s.port !== 0) await checkPortFree(host, s.port);

  // The embedded database opens first (its thread copies a first start's template, then boots
  // PGlite) and the server loads meanwhile: the data folder's module has only node's built-ins
  // under it, so the thread starts before the heavy modules load (docs/benchmarks.md, "First
  // start").
  const opening = lock && values.workers === undefined ? openEmbedded(s.dataDir) : undefined;
  // Awaited by the server's build, which reports its failure; not a rejection nobody heard.
  opening?.catch(() => {});
  const server = await import('@parley/server');
  const cfg = server.configFromEnv(env);
  const workers =
    typeof values.workers === 'string'
      ? Number(values.workers)
      : cfg.databaseUrl && cfg.redisUrl
        ? availableParallelism()
        : 1;
  if (workers > 1 || isWorker) {
    // The primary stops its workers gracefully on a signal; it must not just exit.
    process.off('SIGTERM', early);
    process.off('SIGINT', early);
    const { startWorkers } = await import('./workers.js');
    return await startWorkers(cfg, workers);
  }
  let running: Awaited<ReturnType<typeof server.startServer>>;
  try {
    running = await server.startServer(cfg, { handleSignals: true, opening });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(portInUse(host, s.port));
    if (code === 'EACCES') throw new CliError(`not allowed to listen on ${host}:${s.port}`);
    throw e;
  }
  up = true;
  // From the process's start, not from here: loading the modules before this point was about
  // half of a first start (docs/benchmarks.md, "First start").
  const readyMs = Math.round(process.uptime() * 1000);
  const port = Number(new URL(running.url).port);
  lock?.update({ state: 'ready', port, listen_host: cfg.host });
  out(
    `Parley is running at ${running.url} (${running.svc.database.kind}${cfg.databaseUrl ? '' : `, data in ${cfg.dataDir}`}) — ready in ${readyMs} ms`,
  );
  out(`Docs: ${running.url}/docs/ (API: ${running.url}/docs/api/)`);
  out(
    server.hasWebApp(cfg.webDir)
      ? `Web app: ${running.url}/`
      : 'Web app: not built (npm run build -w @parley/web, or npm ci, builds it)',
  );
  // Private targets the operator let outbound calls reach: worth seeing at every start.
  for (const line of server.describeOutboundAllow(cfg.outboundAllow)) out(`Outbound allow-list: ${line}`);
  if (running.admin.generated) out(`Admin token (kept in ${cfg.dataDir}/admin-token): ${running.admin.token}`);
  return new Promise<number>(() => {}); // until a signal ends the process
}

/** The data folder's database, its thread started before the database module loads. */
async function openEmbedded(dataDir: string) {
  const folder = (await import('@parley/server/data-folder')).openDataFolder(dataDir);
  // Awaited by openDatabase; a failed import of it must not leave this rejection unheard.
  folder.catch(() => {});
  const db = await import('@parley/server/database');
  return db.openDatabase({ dataDir, dataFolder: folder });
}

function portInUse(host: string, port: number): string {
  return `port ${port} on ${host} is in use (another Parley server or another program); choose another with --port N or PORT`;
}

/** Fail now if `host:port` cannot be listened on. */
async function checkPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new CliError(portInUse(host, port)));
      else if (e.code === 'EACCES') reject(new CliError(`not allowed to listen on ${host}:${port}`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
        reject(new CliError(`cannot listen on ${host}: no such address on this machine`));
      } else reject(e);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Linux: a process's parent pid and command name, from /proc; null when it is gone. */
function procInfo(pid: number): { ppid: number; comm: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), comm, start: rest[19] ?? '' };
  } catch {
    return null;
  }
}

const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'busybox']);

/**
 * When npm started this process (`npm exec`, `npx`, `npm start`), shut down when npm or the
 * shell it runs us through goes away. npm forwards SIGTERM and SIGINT to its child, but that
 * child is `sh -c`, which dies of SIGTERM without passing it on.
 */
function watchNpmAncestors(): void {
  if (!process.env.npm_command || !process.env.npm_execpath) return;
  const parent = process.ppid;
  // The chain up to the first ancestor that is not a shell (npm itself). Without /proc
  // (macOS), only the parent is watched, through process.ppid.
  const chain: { pid: number; start: string }[] = [];
  for (let pid = parent, i = 0; pid > 1 && i < 4; i++) {
    const info = procInfo(pid);
    if (!info) break;
    chain.push({ pid, start: info.start });
    if (!SHELLS.has(info.comm)) break;
    pid = info.ppid;
  }
  const gone = () =>
    process.ppid !== parent ||
    chain.some(({ pid, start }) => {
      const now = procInfo(pid);
      return now === null || now.start !== start;
    });
  const timer = setInterval(() => {
    if (!gone()) return;
    clearInterval(timer);
    process.stderr.write('parley: the npm process that started this server has gone; shutting down\n');
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  timer.unref();
}

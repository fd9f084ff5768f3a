/**
 * `parley start --workers N`: N server processes on one port (Node's cluster module hands
 * each new connection to a worker), talking to each other through the Redis broker and
 * sharing PostgreSQL. One process may hold at most ~20,000 open sockets here, so more
 * connections need more processes.
 *
 * The primary migrates once, checks the master key against the database, makes sure the
 * data folder's master key and admin token exist (so every worker reads the same ones),
 * forks, restarts a worker that dies, and on SIGTERM asks every worker to shut down
 * gracefully and exits 0 when they have.
 */
import cluster from 'node:cluster';
import { hostname } from 'node:os';
import {
  type Config,
  checkMasterKey,
  loadAdminToken,
  loadMasterKey,
  openDatabase,
  runMigrations,
  startServer,
} from '@parley/server';

const out = (s: string) => process.stdout.write(`${s}\n`);

export async function startWorkers(cfg: Config, workers: number): Promise<never> {
  if (cluster.isPrimary) {
    if (!cfg.databaseUrl) throw new Error('--workers > 1 needs DATABASE_URL: embedded PGlite belongs to one process');
    if (!cfg.redisUrl) throw new Error('--workers > 1 needs REDIS_URL: workers exchange events through Redis');
    const database = await openDatabase({ url: cfg.databaseUrl });
    try {
      await runMigrations(database);
      // Checked once here: the workers start with migrate: false, which skips the check.
      await checkMasterKey(database.db, loadMasterKey(cfg.masterKey, cfg.dataDir));
    } finally {
      await database.close();
    }
    const admin = loadAdminToken(cfg.adminToken, cfg.dataDir);
    let stopping = false;
    let ready = 0;
    const slots = new Map<number, number>();
    const fork = (n: number) => slots.set(cluster.fork({ PARLEY_WORKER: String(n) }).id, n);
    for (let i = 1; i <= workers; i++) fork(i);
    cluster.on('message', (_w, msg: { ready?: string }) => {
      if (msg?.ready && ++ready === workers) {
        out(`Parley is running at ${msg.ready} with ${workers} workers (postgres + redis)`);
        if (admin.generated) out(`Admin token (kept in ${cfg.dataDir}/admin-token): ${admin.token}`);
      }
    });
    cluster.on('exit', (w, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      const n = slots.get(w.id) ?? w.id;
      out(`worker ${w.process.pid} exited (${signal ?? code}); starting a new one`);
      setTimeout(() => fork(n), 500);
    });
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      // Each worker drains (server main.ts): its delay, then at most 15 s more.
      setTimeout(() => process.exit(1), cfg.drainDelayMs + 20_000).unref();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return new Promise<never>(() => {});
  }
  const n = process.env.PARLEY_WORKER ?? String(cluster.worker?.id ?? 0);
  const s = await startServer(
    { ...cfg, nodeId: `${cfg.nodeId.startsWith('node-') ? hostname() : cfg.nodeId}-w${n}` },
    { handleSignals: true, migrate: false },
  );
  process.send?.({ ready: s.url });
  return new Promise<never>(() => {});
}

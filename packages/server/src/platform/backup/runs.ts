/**
 * The bookkeeping around a backup, shared by every process that writes to the object store:
 *
 * - `backup_runs`: one row per backup. A row `running` with a heartbeat younger than
 *   {@link HOLD_STALE_SECONDS} is an active backup.
 * - While one is active, object removals are not done but recorded (`storage_deletions`,
 *   {@link holdDeletions}); the last backup to finish, or the next start, does them.
 *
 * Why that makes the archive complete: every caller removes an object only after the commit
 * that stopped the database from naming it (files, pictures, emoji: row first, bytes after).
 * A backup marks itself active, then takes its database snapshot, then copies objects. A
 * removal that found no active backup ran its check after its row's commit and before the
 * backup's mark, so that commit precedes the snapshot, which therefore no longer names the
 * object. A removal that found one is held until no backup is active. So every object a
 * snapshot names is still in the store when the backup copies it. Objects are written before
 * the commit that names them, so none named by the snapshot is missing for that reason either.
 */
import { randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import { type Db, rows, schema } from '../db/index.js';
import type { BlobStore } from '../storage/store.js';

/** A running backup that has not beaten its heart for this long has died: it holds nothing. */
export const HOLD_STALE_SECONDS = 120;
/** How often a running backup beats its heart. */
export const HEARTBEAT_MS = 20_000;

/** Whether a backup is running now (other than `except`). */
export async function backupRunning(db: Db, except?: string): Promise<boolean> {
  const found = await rows<{ id: string }>(
    db,
    sql`select id from backup_runs where status = 'running'
        and heartbeat_at > now() - make_interval(secs => ${HOLD_STALE_SECONDS})
        ${except ? sql`and id <> ${except}` : sql``} limit 1`,
  );
  return found.length > 0;
}

/**
 * The store, with removals held while a backup runs. One query per removal: removals are rare
 * (an upload nobody attached expiring, a picture replaced, an emoji removed).
 */
export function holdDeletions(store: BlobStore, db: Db): BlobStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'remove')
        return async (key: string) => {
          if (await backupRunning(db)) {
            await db.insert(schema.storageDeletions).values({ key }).onConflictDoNothing();
            return;
          }
          await target.remove(key);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * Do the removals held by backups, unless one (other than `except`) still runs. Returns how many
 * were done. A removal that fails stays recorded for the next sweep.
 */
export async function sweepHeldDeletions(db: Db, store: BlobStore, except?: string): Promise<number> {
  let done = 0;
  for (;;) {
    if (await backupRunning(db, except)) return done;
    const batch = await db.select().from(schema.storageDeletions).limit(200);
    if (batch.length === 0) return done;
    for (const { key } of batch) {
      try {
        await store.remove(key);
      } catch {
        return done;
      }
      await db.delete(schema.storageDeletions).where(eq(schema.storageDeletions.key, key));
      done++;
    }
  }
}

/** A backup's row while it runs: its id, a heartbeat, and how it ends. */
export interface RunRecord {
  id: string;
  finish(result: { bytes: number; objects: number; keyIncluded: boolean }): Promise<void>;
  fail(error: string): Promise<void>;
}

/** Record a backup as running (which holds removals from now on) and keep its heartbeat. */
export async function startRun(db: Db, databaseKind: string): Promise<RunRecord> {
  const id = randomUUID();
  await db.insert(schema.backupRuns).values({ id, status: 'running', databaseKind });
  const beat = setInterval(() => {
    db.update(schema.backupRuns)
      .set({ heartbeatAt: sql`now()` })
      .where(eq(schema.backupRuns.id, id))
      .catch(() => {});
  }, HEARTBEAT_MS);
  beat.unref();
  const end = async (set: Partial<typeof schema.backupRuns.$inferInsert>) => {
    clearInterval(beat);
    await db
      .update(schema.backupRuns)
      .set({ ...set, finishedAt: sql`now()`, heartbeatAt: sql`now()` })
      .where(eq(schema.backupRuns.id, id));
  };
  return {
    id,
    finish: (r) => end({ status: 'ok', bytes: r.bytes, objects: r.objects, keyIncluded: r.keyIncluded }),
    fail: (error) => end({ status: 'failed', error: error.slice(0, 500) }),
  };
}

/** A backup as the admin API shows it. */
export interface BackupRunView {
  id: string;
  status: 'running' | 'ok' | 'failed';
  database_kind: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  bytes: number | null;
  objects: number | null;
  key_included: boolean;
  error: string | null;
  restored_at: string | null;
}

function present(r: typeof schema.backupRuns.$inferSelect): BackupRunView {
  // A running row whose heartbeat stopped is a backup that died with its process.
  const dead = r.status === 'running' && Date.now() - r.heartbeatAt.getTime() > HOLD_STALE_SECONDS * 1000;
  return {
    id: r.id,
    status: dead ? 'failed' : (r.status as BackupRunView['status']),
    database_kind: r.databaseKind,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt?.toISOString() ?? null,
    duration_ms: r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
    bytes: r.bytes,
    objects: r.objects,
    key_included: r.keyIncluded,
    error: dead ? 'the backup stopped without finishing (its process ended)' : r.error,
    restored_at: r.restoredAt?.toISOString() ?? null,
  };
}

/** The newest backups, newest first. */
export async function recentRuns(db: Db, limit: number): Promise<BackupRunView[]> {
  const list = await db.select().from(schema.backupRuns).orderBy(desc(schema.backupRuns.startedAt)).limit(limit);
  return list.map(present);
}

/** The deployment's data epoch (see `server_state`), made on first use. */
export async function dataEpoch(db: Db): Promise<string> {
  await db.insert(schema.serverState).values({ name: 'data_epoch', value: randomUUID() }).onConflictDoNothing();
  const [row] = await db.select().from(schema.serverState).where(eq(schema.serverState.name, 'data_epoch'));
  return row?.value ?? '';
}

/** After a restore: a new epoch, and the backup's own row marked as the one restored from. */
export async function markRestored(
  db: Db,
  run: { id: string; bytes: number; objects: number; finishedAt: Date },
): Promise<void> {
  await db
    .insert(schema.serverState)
    .values({ name: 'data_epoch', value: randomUUID() })
    .onConflictDoUpdate({ target: schema.serverState.name, set: { value: randomUUID(), updatedAt: sql`now()` } });
  await db
    .update(schema.backupRuns)
    .set({ status: 'ok', bytes: run.bytes, objects: run.objects, finishedAt: run.finishedAt, restoredAt: sql`now()` })
    .where(eq(schema.backupRuns.id, run.id));
  // Any other run the snapshot caught mid-way ended with the old deployment.
  await db
    .update(schema.backupRuns)
    .set({ status: 'failed', error: 'cut off by the restore' })
    .where(sql`status = 'running'`);
}

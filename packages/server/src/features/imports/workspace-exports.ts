/**
 * Workspace exports as jobs (`POST /v1/admin/exports/parley`): asked for by the admin, made by a
 * job into the object store with its progress recorded as it goes, downloaded with the admin
 * token until it expires, then swept (bytes, then record), as a user's data export is
 * (features/admin/export.ts).
 *
 * The record of each is a row of `server_state` (`workspace_export:<id>`, its value the JSON of
 * `Stored`) rather than a table of its own: a handful of rows an admin makes now and then, read by
 * id, that every node sees; a table would add a migration for nothing a query needs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkspaceExport } from '@parley/protocol';
import { eq, like } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { jobRef } from '../../platform/jobs/queue.js';
import type { Services } from '../../services.js';
import { exportWorkspace } from './parley-export.js';

interface ExportJob {
  exportId: string;
}

/** Make a workspace export: this module's job. */
export const MAKE_WORKSPACE_EXPORT = jobRef<ExportJob>('imports.workspace_export');

const RETRIES = 2;
const PREFIX = 'workspace_export:';
const keyOf = (id: string) => `${PREFIX}${id}`;

/** The record: the wire shape, and where the bytes are. */
interface Stored extends WorkspaceExport {
  storage_key: string | null;
}

async function save(q: Queryable, e: Stored): Promise<void> {
  const value = JSON.stringify(e);
  await q
    .insert(schema.serverState)
    .values({ name: keyOf(e.id), value })
    .onConflictDoUpdate({ target: schema.serverState.name, set: { value, updatedAt: new Date() } });
}

/** The export `id`, or null. */
export async function findWorkspaceExport(q: Queryable, id: string): Promise<Stored | null> {
  const [row] = await q
    .select()
    .from(schema.serverState)
    .where(eq(schema.serverState.name, keyOf(id)));
  return row ? (JSON.parse(row.value) as Stored) : null;
}

/** The wire shape (without where the bytes are). */
export function presentWorkspaceExport({ storage_key: _key, ...e }: Stored): WorkspaceExport {
  return e;
}

/** Record a new export of `workspace` and enqueue its job, in one transaction. */
export async function requestWorkspaceExport(svc: Services, workspace: string): Promise<Stored> {
  const e: Stored = {
    id: randomUUID(),
    workspace_id: workspace,
    status: 'pending',
    progress: { done: 0, total: 0, step: null },
    size: null,
    error: null,
    created_at: new Date(svc.clock()).toISOString(),
    ready_at: null,
    expires_at: null,
    storage_key: null,
  };
  await svc.db.transaction(async (tx) => {
    await save(tx, e);
    await svc.jobs.enqueue(tx, MAKE_WORKSPACE_EXPORT, { exportId: e.id });
  });
  svc.jobs.wake(MAKE_WORKSPACE_EXPORT.name);
  return e;
}

/** The job: write the archive, with its progress; store it; mark it ready (or failed, finally). */
async function runWorkspaceExport(svc: Services, id: string, final: boolean): Promise<void> {
  const e = await findWorkspaceExport(svc.db, id);
  if (e?.status !== 'pending') return;
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-workspace-export-'));
  try {
    const file = path.join(dir, 'workspace.zip');
    // Recorded as it goes, one write after the other (never a late one over the final state).
    let saving = Promise.resolve();
    await exportWorkspace(svc.database, svc.storage.store, e.workspace_id, file, {
      clock: svc.clock,
      onProgress: (done, total, step) => {
        const now = { ...e, progress: { done, total, step } };
        saving = saving.then(() => save(svc.db, now)).catch(() => {});
      },
    });
    await saving;
    e.progress = { done: 1, total: 1, step: 'done' };
    const size = (await stat(file)).size;
    const key = `${e.workspace_id}/${id}.zip`;
    await svc.storage.store.putFile(key, file, { contentType: 'application/zip', size });
    const now = svc.clock();
    Object.assign(e, {
      status: 'ready',
      size,
      storage_key: key,
      ready_at: new Date(now).toISOString(),
      expires_at: new Date(now + svc.config.exportTtlHours * 3600_000).toISOString(),
    });
    await save(svc.db, e);
    svc.log.info({ workspace: e.workspace_id, export: id, size }, 'workspace exported');
  } catch (err) {
    if (!final) throw err; // retried by the queue
    Object.assign(e, { status: 'failed', error: err instanceof Error ? err.message.slice(0, 500) : 'failed' });
    await save(svc.db, e);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Remove expired workspace exports: their bytes, then their records. */
export async function sweepWorkspaceExports(svc: Services): Promise<number> {
  const all = await svc.db
    .select()
    .from(schema.serverState)
    .where(like(schema.serverState.name, `${PREFIX}%`));
  let n = 0;
  for (const row of all) {
    const e = JSON.parse(row.value) as Stored;
    if (!e.expires_at || Date.parse(e.expires_at) > svc.clock()) continue;
    if (e.storage_key) await svc.storage.store.remove(e.storage_key);
    await svc.db.delete(schema.serverState).where(eq(schema.serverState.name, row.name));
    n++;
  }
  return n;
}

export async function defineImportJobs(svc: Services): Promise<void> {
  await svc.jobs.define<ExportJob>({
    ...MAKE_WORKSPACE_EXPORT,
    retryLimit: RETRIES,
    expireInSeconds: 3600,
    concurrency: 1,
    run: async ({ exportId }, job) => runWorkspaceExport(svc, exportId, job.retryCount >= RETRIES),
  });
  await svc.jobs.defineRecurring('imports.sweep_exports', 3600, async () => {
    await sweepWorkspaceExports(svc);
  });
}

/**
 * The node registry: each server node that starts on the database writes a row (its id, the
 * Parley version it runs, the last migration it knows) and moves `seen_at` while it runs, so an
 * operator sees in one place which versions run now — during a rolling upgrade, two — and what
 * the database itself was migrated to (GET /v1/admin/nodes). Nodes gone for a day are forgotten.
 */
import { desc, lt, sql } from 'drizzle-orm';
import { schema } from './db/index.js';
import type { Db } from './db/types.js';

/** How often a running node moves its `seen_at`. */
export const NODE_HEARTBEAT_MS = 30_000;
const FORGET_AFTER = '1 day';

export interface NodeIdentity {
  id: string;
  version: string;
  /** The last migration this node's code knows. */
  schema: string;
}

async function beat(db: Db, node: NodeIdentity, startedAt: Date): Promise<void> {
  await db
    .insert(schema.serverNodes)
    .values({ ...node, startedAt, seenAt: sql`now()` })
    .onConflictDoUpdate({
      target: schema.serverNodes.id,
      set: { version: node.version, schema: node.schema, startedAt, seenAt: sql`now()` },
    });
}

/**
 * Register this node now (awaited: a failure is the caller's to log) and every
 * NODE_HEARTBEAT_MS after; answers a stop function. Registering also forgets nodes unseen for a day.
 */
export async function startNodeRegistry(
  db: Db,
  node: NodeIdentity,
  onError: (err: unknown) => void,
): Promise<() => void> {
  const startedAt = new Date();
  await beat(db, node, startedAt);
  await db.delete(schema.serverNodes).where(lt(schema.serverNodes.seenAt, sql`now() - ${FORGET_AFTER}::interval`));
  const timer = setInterval(() => beat(db, node, startedAt).catch(onError), NODE_HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export interface NodeRow {
  id: string;
  version: string;
  schema: string;
  startedAt: Date;
  seenAt: Date;
  /** Seen within two heartbeats. */
  live: boolean;
}

/** Every registered node, most recently seen first. */
export async function listNodes(db: Db): Promise<NodeRow[]> {
  const rows = await db
    .select({
      id: schema.serverNodes.id,
      version: schema.serverNodes.version,
      schema: schema.serverNodes.schema,
      startedAt: schema.serverNodes.startedAt,
      seenAt: schema.serverNodes.seenAt,
      live: sql<boolean>`${schema.serverNodes.seenAt} > now() - make_interval(secs => ${(2 * NODE_HEARTBEAT_MS) / 1000})`,
    })
    .from(schema.serverNodes)
    .orderBy(desc(schema.serverNodes.seenAt), schema.serverNodes.id);
  return rows;
}

/** The database's newest migration and the version that applied it (schema_history). */
export async function databaseSchema(db: Db): Promise<{ migration: string; version: string | null } | null> {
  const [row] = await db
    .select({ migration: schema.schemaHistory.tag, version: schema.schemaHistory.version })
    .from(schema.schemaHistory)
    .orderBy(desc(schema.schemaHistory.migrationAt))
    .limit(1);
  return row ?? null;
}

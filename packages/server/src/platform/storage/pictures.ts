/**
 * Stored pictures' rows (`images`: profile pictures and workspace logos) as whoever holds one
 * drops it: removed (features/images), replaced by a URL set some other way (users' PATCH
 * /v1/me), or with its owner deleted (admin). Each drop is in the owner's own transaction, and
 * the bytes go after its commit. features/images stores and serves pictures; users, below it,
 * drops a replaced one through here without importing images.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { schema, type Tx } from '../db/index.js';

/** Whose picture: a user's profile picture, or the workspace's logo (`id` `''`). */
export interface ImageOwner {
  kind: 'user' | 'workspace';
  id: string;
}

export type ImageRow = typeof schema.images.$inferSelect;

/** The image id a URL of ours names, or null (a URL set some other way). */
export function imageIdOf(url: string | null | undefined, appId: string): string | null {
  const m = url ? /\/v1\/images\/([0-9a-f-]{36})\/([0-9a-f-]{36})(?:\?|$)/i.exec(url) : null;
  return m && m[1]?.toLowerCase() === appId.toLowerCase() ? (m[2] as string) : null;
}

/**
 * Remove `owner`'s picture in `tx` (when it has one), letting `apply` clear the owner's URL.
 * Returns the removed row: pass it to {@link removeBytes} after commit.
 */
export async function dropImage(tx: Tx, appId: string, owner: ImageOwner): Promise<ImageRow | null> {
  await lockOwner(tx, appId, owner);
  const [gone] = await tx.delete(schema.images).where(ownedBy(appId, owner)).returning();
  return gone ?? null;
}

/**
 * Another write set the owner's URL (`image` by PATCH /v1/me) to `url`: unless it still names
 * the owner's stored picture, that picture is dropped in the same transaction, so it stops being
 * served and counting toward the quota. Returns the dropped row, for {@link removeBytes}.
 */
export async function dropReplacedImage(tx: Tx, appId: string, owner: ImageOwner, url: string | null) {
  const [held] = await tx.select({ id: schema.images.id }).from(schema.images).where(ownedBy(appId, owner));
  if (!held || imageIdOf(url, appId) === held.id) return null;
  return dropImage(tx, appId, owner);
}

/** Remove a dropped picture's bytes (after the commit that dropped its row); failures are logged. */
export async function removeBytes(svc: Infra, row: ImageRow): Promise<void> {
  for (const key of Object.values(row.sizes))
    await svc.storage.store
      .remove(key)
      .catch((err: unknown) => svc.log.warn({ err, key }, 'could not remove a picture'));
}

/** Serialise changes of one owner's picture (until the transaction ends). */
export async function lockOwner(tx: Tx, appId: string, owner: ImageOwner): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`parley.images.${appId}.${owner.kind}.${owner.id}`}))`);
}

/** The `images` row of `owner`, as a condition. */
export const ownedBy = (appId: string, owner: ImageOwner) =>
  and(eq(schema.images.appId, appId), eq(schema.images.ownerKind, owner.kind), eq(schema.images.ownerId, owner.id));

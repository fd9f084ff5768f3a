/**
 * A user's profile picture as the user row holds it: `image` (and its blurhash), and who hears
 * of a change. Uploading and removing the picture itself is features/images' (images/avatar.ts).
 */
import { and, eq, sql } from 'drizzle-orm';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Outbox } from '../../platform/event-log.js';
import { userUpdated } from './actions.js';
import type { UserRow } from './present.js';
import { announceUserUpdated } from './profile.js';

/** Set the user's `image` (and its blurhash) in `tx` and queue who hears of it. */
export async function setUserImage(
  tx: Tx,
  out: Outbox,
  appId: string,
  userId: string,
  image: string | null,
  blurhash: string | null,
): Promise<UserRow> {
  const [r] = await tx
    .update(schema.users)
    .set({ image, imageBlurhash: blurhash, updatedAt: sql`now()` })
    .where(and(eq(schema.users.appId, appId), eq(schema.users.id, userId)))
    .returning();
  if (!r) throw new ApiError('NOT_FOUND', 'User not found');
  userUpdated(out, appId, r);
  await announceUserUpdated(tx, out, appId, r);
  return r;
}

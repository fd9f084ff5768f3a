/**
 * A user's own profile picture: upload (stored by features/images as square renditions, the
 * user's `image` pointed at its URL) and removal (back to initials). Everyone who shares a
 * channel gets `user.updated` with the new `image`, and presence followers `presence.changed`,
 * as for any profile change (actions.ts `updateMe`).
 */
import type { ImageUpload } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Received } from '../../platform/storage/received.js';
import type { Services } from '../../services.js';
import { dropImage, removeBytes, storeImage } from '../images/index.js';
import { userUpdated } from './actions.js';
import type { UserRow } from './present.js';
import { announceUserUpdated } from './profile.js';

/** Set the user's `image` (and its blurhash) in `tx` and queue who hears of it. */
async function setImage(
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

/** Make a received upload the caller's profile picture; answers the user row and the picture. */
export async function setAvatar(
  svc: Services,
  caller: Caller & { kind: 'user' },
  got: Received,
  origin: string,
  declared: { name?: string | undefined; type?: string | undefined },
): Promise<{ row: UserRow; image: ImageUpload }> {
  const { result, image } = await storeImage(
    svc,
    caller.app,
    caller.userId,
    { kind: 'user', id: caller.userId },
    got,
    origin,
    declared,
    (tx, out, url, blurhash) => setImage(tx, out, caller.app.id, caller.userId, url, blurhash),
  );
  await svc.presence.announce(caller.app.id, result);
  return { row: result, image };
}

/**
 * Remove the caller's profile picture: `image` becomes null (clients show initials). Also clears
 * an `image` URL set another way (PATCH /v1/me, the server's upsert), so "remove" always removes.
 */
export async function removeAvatar(svc: Services, caller: Caller & { kind: 'user' }): Promise<UserRow> {
  const appId = caller.app.id;
  const { row, gone } = await withTransaction(svc, async (tx, out) => {
    const gone = await dropImage(tx, appId, { kind: 'user', id: caller.userId });
    return { row: await setImage(tx, out, appId, caller.userId, null, null), gone };
  });
  if (gone) await removeBytes(svc, gone);
  await svc.presence.announce(appId, row);
  return row;
}

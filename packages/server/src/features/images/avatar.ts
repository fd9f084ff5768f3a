/**
 * A user's own profile picture: upload (stored as square renditions, the user's `image` pointed
 * at its URL) and removal (back to initials). Everyone who shares a channel gets `user.updated`
 * with the new `image`, and presence followers `presence.changed`, as for any profile change
 * (users/actions.ts `updateMe`); the user row's part is users' `setUserImage`.
 */
import type { ImageUpload } from '@parley/protocol';
import type { Caller } from '../../platform/auth.js';
import { withTransaction } from '../../platform/event-log.js';
import { dropImage, removeBytes } from '../../platform/storage/pictures.js';
import type { Received } from '../../platform/storage/received.js';
import type { Services } from '../../services.js';
import { setUserImage, type UserRow } from '../users/index.js';
import { storeImage } from './actions.js';

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
    (tx, out, url, blurhash) => setUserImage(tx, out, caller.app.id, caller.userId, url, blurhash),
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
    return { row: await setUserImage(tx, out, appId, caller.userId, null, null), gone };
  });
  if (gone) await removeBytes(svc, gone);
  await svc.presence.announce(appId, row);
  return row;
}

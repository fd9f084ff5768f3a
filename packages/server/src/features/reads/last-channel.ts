/**
 * Where you were: the channel each user last had open, kept on the server so it follows them
 * to another device or tab. One row per user, overwritten; the web app sets it (debounced) when
 * a channel opens and opens it on a fresh start. It is the user's own and tells no one else
 * anything, so it publishes no event.
 */
import type { LastChannelResponse } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { accessChannelRead, mayReadChannel } from '../channels/index.js';

const none: LastChannelResponse = { cid: null, updated_at: null };

/** `PUT /v1/me/last-channel`: only a channel the caller may read (else NOT_FOUND / FORBIDDEN, as for opening it). */
export async function setLastChannel(svc: Services, caller: Caller, cid: string): Promise<LastChannelResponse> {
  const me = requireUser(caller, 'The last channel belongs to a user: use a user token');
  await accessChannelRead(svc.db, me, cid);
  const at = new Date(svc.clock());
  await svc.db
    .insert(schema.lastChannels)
    .values({ appId: me.app.id, userId: me.userId, cid, updatedAt: at })
    .onConflictDoUpdate({
      target: [schema.lastChannels.appId, schema.lastChannels.userId],
      set: { cid, updatedAt: at },
    });
  return { cid, updated_at: at.toISOString() };
}

/** `GET /v1/me/last-channel`: null when none is kept, or the channel is gone or no longer readable. */
export async function getLastChannel(svc: Services, caller: Caller): Promise<LastChannelResponse> {
  const me = requireUser(caller, 'The last channel belongs to a user: use a user token');
  const [row] = await svc.db
    .select()
    .from(schema.lastChannels)
    .where(and(eq(schema.lastChannels.appId, me.app.id), eq(schema.lastChannels.userId, me.userId)));
  if (!row) return none;
  try {
    if (!(await mayReadChannel(svc.db, me, row.cid))) return none;
  } catch (err) {
    // A ban from the channel (or the app) answers as no channel to open, not as an error.
    if (err instanceof ApiError) return none;
    throw err;
  }
  return { cid: row.cid, updated_at: row.updatedAt.toISOString() };
}

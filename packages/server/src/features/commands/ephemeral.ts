/**
 * Ephemeral messages: seen only by their recipient. Stored (so a click on any node finds the
 * message, its buttons and its state) but never in a channel's history: they take no seq, are in
 * no event log, and go only to the recipient's own connections (`ephemeral.new`,
 * `ephemeral.deleted` on the user's topic: every connection of theirs, no one else's).
 */
import type { EphemeralAction, EphemeralImage, EphemeralMessage } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { and, eq, lt } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';

/** How long an ephemeral message's buttons keep working. */
export const EPHEMERAL_TTL_MS = 30 * 60_000;

export type EphemeralRow = typeof schema.ephemeralMessages.$inferSelect;

export interface EphemeralBody {
  text: string;
  images?: EphemeralImage[];
  actions?: EphemeralAction[];
  error?: boolean;
}

export interface EphemeralTarget {
  appId: string;
  userId: string;
  cid: string;
  parentId: string | null;
  command: string;
  commandId: string | null;
}

export function presentEphemeral(r: EphemeralRow): EphemeralMessage {
  const b = r.body as unknown as EphemeralBody;
  return {
    id: r.id,
    cid: r.cid,
    parent_id: r.parentId,
    command: r.command,
    text: b.text,
    images: b.images ?? [],
    actions: b.actions ?? [],
    error: b.error ?? false,
    created_at: r.createdAt.toISOString(),
  };
}

/**
 * Show `body` to the target user only. `replace`: the id of an ephemeral message this one takes
 * the place of (same id, same place in the client's view), or the id a new one gets.
 */
export async function showEphemeral(
  svc: Services,
  t: EphemeralTarget,
  body: EphemeralBody,
  state: Record<string, unknown> = {},
  replace?: string,
): Promise<EphemeralMessage> {
  const e = schema.ephemeralMessages;
  const now = new Date(svc.clock());
  const expiresAt = new Date(svc.clock() + EPHEMERAL_TTL_MS);
  let row: EphemeralRow | undefined;
  if (replace) {
    [row] = await svc.db
      .update(e)
      .set({ body: body as unknown as Record<string, unknown>, state, expiresAt })
      .where(and(eq(e.appId, t.appId), eq(e.id, replace), eq(e.userId, t.userId)))
      .returning();
  }
  if (!row) {
    [row] = await svc.db
      .insert(e)
      .values({
        appId: t.appId,
        id: replace ?? uuidv7(),
        userId: t.userId,
        cid: t.cid,
        parentId: t.parentId,
        command: t.command,
        commandId: t.commandId,
        body: body as unknown as Record<string, unknown>,
        state,
        expiresAt,
        createdAt: now,
      })
      .returning();
  }
  const ephemeral = presentEphemeral(row as EphemeralRow);
  svc.bus.publish([
    {
      to: 'user',
      appId: t.appId,
      userId: t.userId,
      event: { type: 'ephemeral.new', cid: t.cid, ephemeral, created_at: now.toISOString() },
    },
  ]);
  // Now and then, the expired ones go (no job needed: a few rows, by an index).
  if (Math.random() < 0.05)
    void svc.db
      .delete(e)
      .where(lt(e.expiresAt, now))
      .catch(() => {});
  return ephemeral;
}

/** The caller's own ephemeral message, not expired; NOT_FOUND otherwise (another user's too). */
export async function accessEphemeral(svc: Services, appId: string, userId: string, id: string): Promise<EphemeralRow> {
  const e = schema.ephemeralMessages;
  const [row] = await svc.db
    .select()
    .from(e)
    .where(and(eq(e.appId, appId), eq(e.id, id), eq(e.userId, userId)));
  if (!row || row.expiresAt.getTime() < svc.clock()) throw notFound('Ephemeral message');
  return row;
}

/** Remove an ephemeral message: gone from every connection of its user. */
export async function removeEphemeral(svc: Services, row: EphemeralRow): Promise<void> {
  const e = schema.ephemeralMessages;
  await svc.db.delete(e).where(and(eq(e.appId, row.appId), eq(e.id, row.id)));
  svc.bus.publish([
    {
      to: 'user',
      appId: row.appId,
      userId: row.userId,
      event: { type: 'ephemeral.deleted', cid: row.cid, id: row.id, created_at: new Date(svc.clock()).toISOString() },
    },
  ]);
}

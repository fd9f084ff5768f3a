/** Spaces as the wire shows them, and the reads every spaces action starts from. */
import type { Space, SpaceInvitation, SpaceKind, SpaceStatus } from '@parley/protocol';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import { notFound } from '../../platform/errors.js';
import type { InvitationRow } from '../invitations/index.js';

export type SpaceRow = typeof schema.spaces.$inferSelect;
export type OccupantRow = typeof schema.spaceOccupants.$inferSelect;

/** The invitation kinds spaces own (features/invitations). */
export const TELEPORT = 'spaces.teleport';
export const KNOCK = 'spaces.knock';

/** A knock's invitation subject: one per knocker, so two people knocking at once are answered apart. */
export const knockSubject = (spaceId: string, userId: string) => `${spaceId}:${userId}`;

export function presentSpace(row: SpaceRow, occupants: readonly OccupantRow[]): Space {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as SpaceKind,
    capacity: row.capacity,
    position: row.position,
    status: row.status as SpaceStatus,
    cid: row.cid,
    occupants: [...occupants]
      .sort((a, b) => a.enteredAt.getTime() - b.enteredAt.getTime() || (a.userId < b.userId ? -1 : 1))
      .map((o) => ({ user_id: o.userId, entered_at: o.enteredAt.toISOString() })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function presentInvitation(row: InvitationRow, answeredBy: string | null = null): SpaceInvitation {
  const knock = row.kind === KNOCK;
  return {
    kind: knock ? 'knock' : 'teleport',
    space_id: knock ? (row.subjectId.split(':')[0] as string) : row.subjectId,
    from_user_id: row.fromUserId,
    to_user_id: knock ? null : row.toUserId,
    state: row.state as SpaceInvitation['state'],
    expires_at: row.expiresAt.toISOString(),
    answered_by: answeredBy,
  };
}

export async function occupantsOf(q: Queryable, appId: string, spaceIds: string[]): Promise<OccupantRow[]> {
  if (spaceIds.length === 0) return [];
  return q
    .select()
    .from(schema.spaceOccupants)
    .where(and(eq(schema.spaceOccupants.appId, appId), inArray(schema.spaceOccupants.spaceId, spaceIds)));
}

/** One space with who is in it; `lock` holds its row until commit (every writer of a space does). */
export async function loadSpace(q: Queryable, appId: string, id: string, lock = false) {
  const query = q
    .select()
    .from(schema.spaces)
    .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, id)));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound('Space');
  return { row, occupants: await occupantsOf(q, appId, [id]) };
}

/** The app's spaces in office order, with who is in each: two queries. */
export async function listSpaceRows(q: Queryable, appId: string): Promise<Space[]> {
  const rows = await q
    .select()
    .from(schema.spaces)
    .where(eq(schema.spaces.appId, appId))
    .orderBy(asc(schema.spaces.position), asc(schema.spaces.name), asc(schema.spaces.id));
  const occ = await q.select().from(schema.spaceOccupants).where(eq(schema.spaceOccupants.appId, appId));
  const by = new Map<string, OccupantRow[]>();
  for (const o of occ) by.set(o.spaceId, [...(by.get(o.spaceId) ?? []), o]);
  return rows.map((r) => presentSpace(r, by.get(r.id) ?? []));
}

/** Where each of `userIds` is (one query): a map of those in a space to its id. */
export async function spacesOfUsers(q: Queryable, appId: string, userIds: readonly string[]) {
  if (userIds.length === 0) return new Map<string, string>();
  const rows = await q
    .select({ userId: schema.spaceOccupants.userId, spaceId: schema.spaceOccupants.spaceId })
    .from(schema.spaceOccupants)
    .where(and(eq(schema.spaceOccupants.appId, appId), inArray(schema.spaceOccupants.userId, [...userIds])));
  return new Map(rows.map((r) => [r.userId, r.spaceId]));
}

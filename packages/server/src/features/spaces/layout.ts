/**
 * Laying out the office (app admins and the server token): create, edit, arrange and remove
 * spaces, each one transaction with its `space.updated` after commit. Reading the office is
 * for every office user (not guests).
 */
import type { ArrangeSpacesBody, CreateSpaceBody, Space, UpdateSpaceBody } from '@parley/protocol';
import { uuidv7 } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, invalid } from '../../platform/errors.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { cancelInvitations } from '../invitations/index.js';
import { accessOfficeCaller, checkSpaceAdmin } from './access.js';
import { spaceUpdated } from './moves.js';
import { listSpaceRows, loadSpace, presentSpace, TELEPORT } from './present.js';

/** Most spaces one app may have. */
const MAX_SPACES_PER_APP = 500;

/** The office: every space in order, with who is in each. */
export async function listSpaces(svc: Services, caller: Caller): Promise<Space[]> {
  if (caller.kind === 'user') await accessOfficeCaller(svc.db, caller, svc.clock());
  return listSpaceRows(svc.db, caller.app.id);
}

export async function createSpace(svc: Services, caller: Caller, body: CreateSpaceBody): Promise<Space> {
  await checkSpaceAdmin(svc, caller);
  const appId = caller.app.id;
  return withTransaction(svc, async (tx, out) => {
    // The app's row locked: two creations at once get distinct default positions and one count.
    await tx.select({ id: schema.apps.id }).from(schema.apps).where(eq(schema.apps.id, appId)).for('update');
    const [stats] = await tx
      .select({ n: sql<number>`count(*)::int`, last: sql<number | null>`max(${schema.spaces.position})` })
      .from(schema.spaces)
      .where(eq(schema.spaces.appId, appId));
    if ((stats?.n ?? 0) >= MAX_SPACES_PER_APP)
      throw new ApiError('CONFLICT', `An app has at most ${MAX_SPACES_PER_APP} spaces`);
    const at = new Date(svc.clock());
    const [row] = await tx
      .insert(schema.spaces)
      .values({
        appId,
        id: uuidv7(),
        name: body.name.trim(),
        kind: body.kind ?? 'desk',
        capacity: body.capacity ?? null,
        position: body.position ?? (stats?.last ?? -1) + 1,
        status: 'free',
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    const space = presentSpace(row!, []);
    spaceUpdated(out, appId, space, 'created', null, at);
    return space;
  });
}

export async function updateSpace(svc: Services, caller: Caller, id: string, body: UpdateSpaceBody): Promise<Space> {
  await checkSpaceAdmin(svc, caller);
  const appId = caller.app.id;
  return withTransaction(svc, async (tx, out) => {
    const { row, occupants } = await loadSpace(tx, appId, id, true);
    const at = new Date(svc.clock());
    const set: Partial<typeof schema.spaces.$inferInsert> = { updatedAt: at };
    if (body.name !== undefined) set.name = body.name.trim();
    if (body.kind !== undefined) set.kind = body.kind;
    if (body.capacity !== undefined) set.capacity = body.capacity;
    if (body.position !== undefined) set.position = body.position;
    const [next] = await tx
      .update(schema.spaces)
      .set(set)
      .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, id)))
      .returning();
    // The room is named after its space.
    if (set.name && row.cid)
      await tx
        .update(schema.channels)
        .set({ name: set.name, updatedAt: at })
        .where(and(eq(schema.channels.appId, appId), eq(schema.channels.cid, row.cid)));
    const space = presentSpace(next!, occupants);
    spaceUpdated(out, appId, space, 'updated', null, at);
    return space;
  });
}

/** Put spaces in this order (positions 0, 1, …); the ones not named follow, in their order. */
export async function arrangeSpaces(svc: Services, caller: Caller, body: ArrangeSpacesBody): Promise<Space[]> {
  await checkSpaceAdmin(svc, caller);
  const appId = caller.app.id;
  return withTransaction(svc, async (tx, out) => {
    const rows = await tx
      .select()
      .from(schema.spaces)
      .where(eq(schema.spaces.appId, appId))
      .orderBy(schema.spaces.position, schema.spaces.name, schema.spaces.id)
      .for('update');
    const known = new Set(rows.map((r) => r.id));
    const unknown = body.order.find((id) => !known.has(id));
    if (unknown) throw invalid(`No space ${unknown} in this app`, { space_id: unknown });
    const named = new Set(body.order);
    const order = [...body.order, ...rows.filter((r) => !named.has(r.id)).map((r) => r.id)];
    const at = new Date(svc.clock());
    const moved = order.filter((id, i) => rows.find((r) => r.id === id)?.position !== i);
    for (const id of moved)
      await tx
        .update(schema.spaces)
        .set({ position: order.indexOf(id), updatedAt: at })
        .where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, id)));
    const spaces = await listSpaceRows(tx, appId);
    for (const s of spaces) if (moved.includes(s.id)) spaceUpdated(out, appId, s, 'updated', null, at);
    return spaces;
  });
}

/**
 * Remove a space. Refused (CONFLICT) while anyone is in it: people are not thrown out of a
 * room by a layout change. Its room channel stays, with its history, for whoever was a member.
 */
export async function deleteSpace(svc: Services, caller: Caller, id: string): Promise<Space> {
  await checkSpaceAdmin(svc, caller);
  const appId = caller.app.id;
  return withTransaction(svc, async (tx, out) => {
    const { row, occupants } = await loadSpace(tx, appId, id, true);
    if (occupants.length > 0)
      throw new ApiError('CONFLICT', `${row.name} is not empty: it can be removed once everyone left`, {
        occupants: occupants.length,
      });
    const at = new Date(svc.clock());
    await cancelInvitations(tx, { appId, kind: TELEPORT, subjectId: id, now: at });
    await tx.delete(schema.spaces).where(and(eq(schema.spaces.appId, appId), eq(schema.spaces.id, id)));
    const space = presentSpace(row, []);
    spaceUpdated(out, appId, space, 'deleted', null, at);
    return space;
  });
}

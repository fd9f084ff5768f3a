/**
 * Sidebar sections: a user's own grouping of their channels and DMs (custom sections and the
 * built-in Starred one), kept on the server so it follows them to every device.
 *
 * Every change runs in one transaction that first locks the user's row: two devices editing
 * at once take turns, so positions stay a dense 0..n-1 and a channel is in at most one
 * section. After commit the whole sidebar goes to the user's own connections
 * (`sidebar.updated`); it is small, and a whole value cannot be applied out of order.
 *
 * Only channels the user is a member of are shown: a placement whose membership is gone is
 * left out of every read and dropped the next time its section is rewritten.
 */
import {
  type CreateSectionBody,
  MAX_SIDEBAR_SECTIONS,
  type PlaceChannelBody,
  type ReorderSectionsBody,
  type Sidebar,
  type SidebarSection,
  type UpdateSectionBody,
  uuidv7,
} from '@parley/protocol';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema, type Tx } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';

type Me = Caller & { kind: 'user' };
type SectionRow = typeof schema.sidebarSections.$inferSelect;

const s = schema.sidebarSections;
const p = schema.sidebarPlacements;
const STARRED_NAME = 'Starred';

/** The user's sidebar as it stands: sections in order, each with its member channels in order. */
export async function readSidebar(q: Queryable, appId: string, userId: string): Promise<Sidebar> {
  const sections = await q
    .select()
    .from(s)
    .where(and(eq(s.appId, appId), eq(s.userId, userId)))
    .orderBy(asc(s.position), asc(s.id));
  const placed = await visiblePlacements(q, appId, userId);
  const bySection = new Map<string, string[]>();
  for (const row of placed) {
    const list = bySection.get(row.sectionId) ?? [];
    list.push(row.cid);
    bySection.set(row.sectionId, list);
  }
  return { sections: sections.map((r) => presentSection(r, bySection.get(r.id) ?? [])) };
}

function presentSection(r: SectionRow, cids: string[]): SidebarSection {
  return {
    id: r.id,
    kind: r.kind as SidebarSection['kind'],
    name: r.name,
    position: r.position,
    collapsed: r.collapsed,
    sort: r.sort as SidebarSection['sort'],
    cids,
  };
}

/** Placements of channels the user is still a member of, in section order. */
async function visiblePlacements(q: Queryable, appId: string, userId: string, sectionId?: string) {
  const conds = [eq(p.appId, appId), eq(p.userId, userId)];
  if (sectionId) conds.push(eq(p.sectionId, sectionId));
  return q
    .select({ cid: p.cid, sectionId: p.sectionId, position: p.position })
    .from(p)
    .innerJoin(
      schema.members,
      and(eq(schema.members.appId, p.appId), eq(schema.members.cid, p.cid), eq(schema.members.userId, p.userId)),
    )
    .where(and(...conds))
    .orderBy(asc(p.position), asc(p.cid));
}

/** `GET /v1/me/sidebar`. */
export async function getSidebar(svc: Services, me: Me): Promise<Sidebar> {
  return readSidebar(svc.db, me.app.id, me.userId);
}

/**
 * Run one sidebar change for `me`: lock their user row (so their devices take turns), change,
 * read the sidebar back and tell their connections after commit.
 */
async function changeSidebar(svc: Services, me: Me, fn: (tx: Tx) => Promise<void>): Promise<Sidebar> {
  const appId = me.app.id;
  return withTransaction(svc, async (tx, out: Outbox) => {
    await tx.execute(
      sql`select 1 from ${schema.users} where ${schema.users.appId} = ${appId} and ${schema.users.id} = ${me.userId} for update`,
    );
    await fn(tx);
    const sidebar = await readSidebar(tx, appId, me.userId);
    out.push({
      to: 'user',
      appId,
      userId: me.userId,
      event: { type: 'sidebar.updated', sidebar, created_at: new Date(svc.clock()).toISOString() },
    });
    return sidebar;
  });
}

async function sectionsOf(tx: Queryable, appId: string, userId: string): Promise<SectionRow[]> {
  return tx
    .select()
    .from(s)
    .where(and(eq(s.appId, appId), eq(s.userId, userId)))
    .orderBy(asc(s.position), asc(s.id));
}

/** Write `ids` as the sections' order 0..n-1 (only rows whose position moved). */
async function writeSectionOrder(tx: Tx, appId: string, rows: SectionRow[], ids: string[]) {
  const at = new Map(rows.map((r) => [r.id, r.position]));
  for (const [i, id] of ids.entries())
    if (at.get(id) !== i)
      await tx
        .update(s)
        .set({ position: i })
        .where(and(eq(s.appId, appId), eq(s.id, id)));
}

async function ownSection(tx: Queryable, me: Me, id: string): Promise<SectionRow> {
  const [row] = await tx
    .select()
    .from(s)
    .where(and(eq(s.appId, me.app.id), eq(s.id, id), eq(s.userId, me.userId)));
  if (!row) throw notFound('Section');
  return row;
}

/** Rewrite a section's channels as `cids`, in that order (dropping placements no longer visible). */
async function writeSectionChannels(tx: Tx, me: Me, sectionId: string, cids: string[]) {
  const appId = me.app.id;
  await tx.delete(p).where(and(eq(p.appId, appId), eq(p.userId, me.userId), eq(p.sectionId, sectionId)));
  if (cids.length)
    await tx.insert(p).values(cids.map((cid, position) => ({ appId, userId: me.userId, cid, sectionId, position })));
}

/** Make a section, at `position` among the others (default: last). */
export async function createSection(svc: Services, me: Me, body: CreateSectionBody): Promise<Sidebar> {
  return changeSidebar(svc, me, async (tx) => {
    const rows = await sectionsOf(tx, me.app.id, me.userId);
    if (rows.length >= MAX_SIDEBAR_SECTIONS) throw invalid(`At most ${MAX_SIDEBAR_SECTIONS} sections`);
    const id = uuidv7();
    const at = Math.min(body.position ?? rows.length, rows.length);
    await tx.insert(s).values({
      appId: me.app.id,
      userId: me.userId,
      id,
      kind: 'custom',
      name: body.name.trim(),
      position: rows.length,
    });
    const ids = rows.map((r) => r.id);
    ids.splice(at, 0, id);
    await writeSectionOrder(tx, me.app.id, [...rows, { id, position: rows.length } as SectionRow], ids);
  });
}

/** Rename, collapse or expand a section, or change how it sorts. Starred keeps its name. */
export async function updateSection(svc: Services, me: Me, id: string, body: UpdateSectionBody): Promise<Sidebar> {
  if (body.name === undefined && body.collapsed === undefined && body.sort === undefined)
    throw invalid('Nothing to change: send a name, collapsed or sort');
  return changeSidebar(svc, me, async (tx) => {
    const row = await ownSection(tx, me, id);
    if (body.name !== undefined && row.kind === 'starred') throw invalid('The Starred section keeps its name');
    await tx
      .update(s)
      .set({
        ...(body.name !== undefined ? { name: body.name.trim() } : {}),
        ...(body.collapsed !== undefined ? { collapsed: body.collapsed } : {}),
        ...(body.sort !== undefined ? { sort: body.sort } : {}),
      })
      .where(and(eq(s.appId, me.app.id), eq(s.id, id)));
  });
}

/** Remove a section; its channels go back to their default group. */
export async function deleteSection(svc: Services, me: Me, id: string): Promise<Sidebar> {
  return changeSidebar(svc, me, async (tx) => {
    await ownSection(tx, me, id);
    await tx.delete(p).where(and(eq(p.appId, me.app.id), eq(p.userId, me.userId), eq(p.sectionId, id)));
    await tx.delete(s).where(and(eq(s.appId, me.app.id), eq(s.id, id)));
    const rows = await sectionsOf(tx, me.app.id, me.userId);
    await writeSectionOrder(
      tx,
      me.app.id,
      rows,
      rows.map((r) => r.id),
    );
  });
}

/** Put the sections in this order: every one of the caller's sections, each once. */
export async function reorderSections(svc: Services, me: Me, body: ReorderSectionsBody): Promise<Sidebar> {
  return changeSidebar(svc, me, async (tx) => {
    const rows = await sectionsOf(tx, me.app.id, me.userId);
    const mine = new Set(rows.map((r) => r.id));
    const missing = rows.filter((r) => !body.section_ids.includes(r.id)).map((r) => r.id);
    const unknown = body.section_ids.filter((x) => !mine.has(x));
    if (missing.length || unknown.length)
      throw invalid('section_ids must name each of your sections exactly once', { missing, unknown });
    await writeSectionOrder(tx, me.app.id, rows, body.section_ids);
  });
}

/** The caller's membership of `cid`, else NOT_FOUND (a channel they are not in is not theirs to place). */
async function checkMember(tx: Queryable, me: Me, cid: string): Promise<void> {
  const m = schema.members;
  const [row] = await tx
    .select({ cid: m.cid })
    .from(m)
    .where(and(eq(m.appId, me.app.id), eq(m.cid, cid), eq(m.userId, me.userId)));
  if (!row) throw notFound('Channel');
}

/** Move `cid` into `sectionId` at `position` (default last), or out of every section (null). */
async function place(tx: Tx, me: Me, cid: string, sectionId: string | null, position?: number) {
  const appId = me.app.id;
  await checkMember(tx, me, cid);
  if (sectionId) await ownSection(tx, me, sectionId);
  const [was] = await tx
    .select({ sectionId: p.sectionId })
    .from(p)
    .where(and(eq(p.appId, appId), eq(p.userId, me.userId), eq(p.cid, cid)));
  if (was && was.sectionId !== sectionId) {
    const rest = (await visiblePlacements(tx, appId, me.userId, was.sectionId)).filter((r) => r.cid !== cid);
    await writeSectionChannels(
      tx,
      me,
      was.sectionId,
      rest.map((r) => r.cid),
    );
  }
  if (!sectionId) return;
  const list = (await visiblePlacements(tx, appId, me.userId, sectionId)).map((r) => r.cid).filter((c) => c !== cid);
  list.splice(Math.min(position ?? list.length, list.length), 0, cid);
  await writeSectionChannels(tx, me, sectionId, list);
}

/** `PUT /v1/me/sidebar/channels/{cid}`: place a channel or DM in a section, or back in its default group. */
export async function placeChannel(svc: Services, me: Me, cid: string, body: PlaceChannelBody): Promise<Sidebar> {
  return changeSidebar(svc, me, (tx) => place(tx, me, cid, body.section_id, body.position));
}

/** Star a channel: into the Starred section (made, first among the sections, on the first star). */
export async function starChannel(svc: Services, me: Me, cid: string): Promise<Sidebar> {
  return changeSidebar(svc, me, async (tx) => {
    await checkMember(tx, me, cid);
    const rows = await sectionsOf(tx, me.app.id, me.userId);
    let starred = rows.find((r) => r.kind === 'starred');
    if (!starred) {
      if (rows.length >= MAX_SIDEBAR_SECTIONS) throw invalid(`At most ${MAX_SIDEBAR_SECTIONS} sections`);
      const id = uuidv7();
      [starred] = await tx
        .insert(s)
        .values({ appId: me.app.id, userId: me.userId, id, kind: 'starred', name: STARRED_NAME, position: rows.length })
        .returning();
      await writeSectionOrder(tx, me.app.id, [...rows, starred as SectionRow], [id, ...rows.map((r) => r.id)]);
    }
    const [already] = await tx
      .select({ sectionId: p.sectionId })
      .from(p)
      .where(and(eq(p.appId, me.app.id), eq(p.userId, me.userId), eq(p.cid, cid)));
    if (already?.sectionId !== (starred as SectionRow).id) await place(tx, me, cid, (starred as SectionRow).id);
  });
}

/** Unstar: a starred channel goes back to its default group (a channel not starred is left as it is). */
export async function unstarChannel(svc: Services, me: Me, cid: string): Promise<Sidebar> {
  return changeSidebar(svc, me, async (tx) => {
    await checkMember(tx, me, cid);
    const [row] = await tx
      .select({ sectionId: p.sectionId, kind: s.kind })
      .from(p)
      .innerJoin(s, and(eq(s.appId, p.appId), eq(s.id, p.sectionId)))
      .where(and(eq(p.appId, me.app.id), eq(p.userId, me.userId), eq(p.cid, cid)));
    if (row?.kind === 'starred') await place(tx, me, cid, null);
  });
}

/**
 * Custom profile fields: definitions an app's admins make (admin role or the server token), and
 * the values people set on their profiles. Who sees a value is decided here, in one place:
 * `members` fields are shown to everyone who may see the user; `admins` fields only to the app's
 * admins and the server token (`visibleValues`), who alone set them.
 */
import {
  type CreateProfileFieldBody,
  MAX_PROFILE_FIELDS,
  PROFILE_LIMITS,
  type ProfileField,
  type UpdateProfileFieldBody,
  uuidv7,
} from '@parley/protocol';
import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { checkAppAdmin, isAppAdmin } from '../audit/index.js';
import type { UserRow } from './present.js';
import { announceUserUpdated } from './profile.js';

type FieldRow = typeof schema.profileFields.$inferSelect;

export function presentField(r: FieldRow): ProfileField {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as ProfileField['kind'],
    options: r.options,
    position: r.position,
    required: r.required,
    visibility: r.visibility as ProfileField['visibility'],
    admin_editable: r.adminEditable,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** The app's fields in order; a non-admin viewer does not learn of `admins` fields at all. */
export async function listFields(svc: Services, appId: string, admin: boolean): Promise<FieldRow[]> {
  const f = schema.profileFields;
  const rows = await svc.db.select().from(f).where(eq(f.appId, appId)).orderBy(asc(f.position), asc(f.createdAt));
  return admin ? rows : rows.filter((r) => r.visibility === 'members');
}

/** Whether the caller sees everything about the app's people (server token or admin role). */
export async function seesAdminFields(svc: Services, caller: Caller): Promise<boolean> {
  return caller.kind === 'server' || (await isAppAdmin(svc, caller.app.id, caller.userId));
}

function checkOptions(kind: string, options: string[] | undefined): string[] {
  if (kind !== 'choice') {
    if (options && options.length > 0)
      throw new ApiError('VALIDATION_ERROR', 'Only choice fields have options', { field: 'options' });
    return [];
  }
  const list = (options ?? []).map((o) => o.trim());
  if (list.length === 0) throw new ApiError('VALIDATION_ERROR', 'A choice field needs options', { field: 'options' });
  if (new Set(list.map((o) => o.toLowerCase())).size !== list.length)
    throw new ApiError('VALIDATION_ERROR', 'Two options are the same', { field: 'options' });
  return list;
}

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505';

export async function createField(svc: Services, caller: Caller, body: CreateProfileFieldBody): Promise<ProfileField> {
  await checkAppAdmin(svc, caller);
  const options = checkOptions(body.kind, body.options);
  const f = schema.profileFields;
  try {
    return await withTransaction(svc, async (tx) => {
      // Serializes creations per app, so the count bound and the next position hold.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`profile_fields:${caller.app.id}`}))`);
      const [{ n, top }] = (await tx
        .select({ n: sql<number>`count(*)::int`, top: sql<number>`coalesce(max(${f.position}), -1)::int` })
        .from(f)
        .where(eq(f.appId, caller.app.id))) as [{ n: number; top: number }];
      if (n >= MAX_PROFILE_FIELDS)
        throw new ApiError('VALIDATION_ERROR', `An app may define at most ${MAX_PROFILE_FIELDS} profile fields`);
      const [row] = await tx
        .insert(f)
        .values({
          appId: caller.app.id,
          id: uuidv7(),
          name: body.name.trim(),
          kind: body.kind,
          options,
          position: top + 1,
          required: body.required ?? false,
          visibility: body.visibility ?? 'members',
          adminEditable: body.admin_editable ?? true,
        })
        .returning();
      return presentField(row as FieldRow);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError('CONFLICT', 'A profile field of this name exists');
    throw err;
  }
}

export async function updateField(
  svc: Services,
  caller: Caller,
  id: string,
  body: UpdateProfileFieldBody,
): Promise<ProfileField> {
  await checkAppAdmin(svc, caller);
  const f = schema.profileFields;
  try {
    return await withTransaction(svc, async (tx) => {
      const [cur] = await tx
        .select()
        .from(f)
        .where(and(eq(f.appId, caller.app.id), eq(f.id, id)))
        .for('update');
      if (!cur) throw new ApiError('NOT_FOUND', 'Profile field not found');
      const set: Partial<typeof f.$inferInsert> = { updatedAt: new Date() };
      if (body.name !== undefined) set.name = body.name.trim();
      if (body.options !== undefined) set.options = checkOptions(cur.kind, body.options);
      if (body.required !== undefined) set.required = body.required;
      if (body.visibility !== undefined) set.visibility = body.visibility;
      if (body.admin_editable !== undefined) set.adminEditable = body.admin_editable;
      const [row] = await tx
        .update(f)
        .set(set)
        .where(and(eq(f.appId, caller.app.id), eq(f.id, id)))
        .returning();
      // An option taken away takes its values with it: no profile shows a choice that is gone.
      if (set.options)
        await tx
          .delete(schema.profileFieldValues)
          .where(
            and(
              eq(schema.profileFieldValues.appId, caller.app.id),
              eq(schema.profileFieldValues.fieldId, id),
              notInArray(schema.profileFieldValues.value, set.options),
            ),
          );
      return presentField(row as FieldRow);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError('CONFLICT', 'A profile field of this name exists');
    throw err;
  }
}

/** Set the order: `ids` must name every field of the app exactly once. */
export async function reorderFields(svc: Services, caller: Caller, ids: string[]): Promise<ProfileField[]> {
  await checkAppAdmin(svc, caller);
  const f = schema.profileFields;
  return withTransaction(svc, async (tx) => {
    const rows = await tx.select({ id: f.id }).from(f).where(eq(f.appId, caller.app.id)).for('update');
    const have = new Set(rows.map((r) => r.id));
    if (new Set(ids).size !== ids.length || ids.length !== have.size || !ids.every((id) => have.has(id)))
      throw new ApiError('VALIDATION_ERROR', 'ids must name every profile field of the app once', { field: 'ids' });
    const now = new Date();
    for (const [i, id] of ids.entries())
      await tx
        .update(f)
        .set({ position: i, updatedAt: now })
        .where(and(eq(f.appId, caller.app.id), eq(f.id, id)));
    const out = await tx.select().from(f).where(eq(f.appId, caller.app.id)).orderBy(asc(f.position));
    return out.map(presentField);
  });
}

/** Delete a field; its values go with it (the foreign key cascades). */
export async function deleteField(svc: Services, caller: Caller, id: string): Promise<void> {
  await checkAppAdmin(svc, caller);
  const f = schema.profileFields;
  const gone = await svc.db
    .delete(f)
    .where(and(eq(f.appId, caller.app.id), eq(f.id, id)))
    .returning({ id: f.id });
  if (gone.length === 0) throw new ApiError('NOT_FOUND', 'Profile field not found');
}

/** The value as stored, or VALIDATION_ERROR saying what is wrong with it for this field. */
function checkValue(field: FieldRow, raw: string): string {
  const value = raw.trim();
  const bad = (why: string) => new ApiError('VALIDATION_ERROR', `${field.name}: ${why}`, { field: field.id });
  if (field.kind === 'link') {
    if (value.length > PROFILE_LIMITS.link_value) throw bad('too long');
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw bad('not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('only http and https links');
    return url.href;
  }
  if (value.length > PROFILE_LIMITS.field_value) throw bad('too long');
  if (field.kind === 'choice' && !field.options.includes(value)) throw bad('not one of the options');
  return value;
}

/**
 * Set custom field values on `userId`'s profile (null or blank clears one). The user sets their
 * own `members` fields; an app admin (or the server token) sets `admins` fields, and another's
 * fields only where `admin_editable`.
 * A required field cannot be cleared. Everyone who shares a channel hears `user.updated`.
 */
export async function setFieldValues(
  svc: Services,
  caller: Caller,
  userId: string,
  values: Record<string, string | null>,
): Promise<UserRow> {
  const self = caller.kind === 'user' && caller.userId === userId;
  const admin = await seesAdminFields(svc, caller);
  if (!self && !admin) throw new ApiError('FORBIDDEN', "Only admins may set others' profile fields");
  const ids = Object.keys(values);
  const f = schema.profileFields;
  const v = schema.profileFieldValues;
  return withTransaction(svc, async (tx, out) => {
    const [user] = await tx
      .select()
      .from(schema.users)
      .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, userId)))
      .for('update');
    if (!user || user.deletedAt) throw new ApiError('NOT_FOUND', 'User not found');
    const fields =
      ids.length === 0
        ? []
        : await tx
            .select()
            .from(f)
            .where(and(eq(f.appId, caller.app.id), inArray(f.id, ids.filter(isUuid))));
    const byId = new Map(fields.map((r) => [r.id, r]));
    for (const id of ids) {
      const field = byId.get(id);
      // A non-admin cannot tell an admins-only field from none: both are unknown here.
      if (!field || (field.visibility === 'admins' && !admin))
        throw new ApiError('VALIDATION_ERROR', `Unknown profile field: ${id}`, { field: id });
      if (!self && !field.adminEditable)
        throw new ApiError('FORBIDDEN', `${field.name} is set by its owner only`, { field: id });
    }
    for (const id of ids) {
      const field = byId.get(id) as FieldRow;
      const raw = values[id];
      if (raw === null || raw === undefined || raw.trim() === '') {
        if (field.required) throw new ApiError('VALIDATION_ERROR', `${field.name} is required`, { field: id });
        await tx.delete(v).where(and(eq(v.appId, caller.app.id), eq(v.userId, userId), eq(v.fieldId, id)));
        continue;
      }
      const value = checkValue(field, raw);
      await tx
        .insert(v)
        .values({ appId: caller.app.id, userId, fieldId: id, value })
        .onConflictDoUpdate({ target: [v.appId, v.userId, v.fieldId], set: { value, updatedAt: new Date() } });
    }
    const [row] = await tx
      .update(schema.users)
      .set({ updatedAt: new Date() })
      .where(and(eq(schema.users.appId, caller.app.id), eq(schema.users.id, userId)))
      .returning();
    await announceUserUpdated(tx, out, caller.app.id, row as UserRow);
    return row as UserRow;
  });
}

/**
 * The fields `ids` as filters of the caller's (the people directory): a non-admin cannot filter
 * by an `admins` field — the answers would tell its values — and, as in `setFieldValues`, cannot
 * tell one from a field that does not exist: both are VALIDATION_ERROR naming the id. Another
 * app's field is unknown. `admin`: the caller sees `admins` fields (`directoryView`).
 */
export async function accessFilterFields(
  svc: Services,
  appId: string,
  ids: string[],
  admin: boolean,
): Promise<Map<string, FieldRow>> {
  const f = schema.profileFields;
  const want = [...new Set(ids)];
  const rows = await svc.db
    .select()
    .from(f)
    .where(and(eq(f.appId, appId), inArray(f.id, want.filter(isUuid))));
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of want) {
    const field = byId.get(id);
    if (!field || (field.visibility === 'admins' && !admin))
      throw new ApiError('VALIDATION_ERROR', `Unknown profile field: ${id}`, { field: id });
  }
  return byId;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (s: string) => UUID.test(s);

/**
 * The custom field values of `userIds` the viewer may see, by user then field id: all of them
 * for admins (`admin`), else only `members` fields — not even the user's own `admins` ones.
 */
export async function visibleValues(
  svc: Services,
  appId: string,
  userIds: string[],
  admin: boolean,
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (userIds.length === 0) return out;
  const f = schema.profileFields;
  const v = schema.profileFieldValues;
  const rows = await svc.db
    .select({ userId: v.userId, fieldId: v.fieldId, value: v.value, visibility: f.visibility })
    .from(v)
    .innerJoin(f, and(eq(f.appId, v.appId), eq(f.id, v.fieldId)))
    .where(and(eq(v.appId, appId), inArray(v.userId, userIds)))
    .orderBy(asc(f.position));
  for (const id of userIds) out.set(id, {});
  for (const r of rows) {
    if (r.visibility === 'admins' && !admin) continue;
    (out.get(r.userId) as Record<string, string>)[r.fieldId] = r.value;
  }
  return out;
}

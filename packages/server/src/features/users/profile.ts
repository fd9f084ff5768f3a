/**
 * Profiles: checking the profile fields a user or an app's server sets, who hears that a
 * profile changed (`user.updated`), and whether a username can be had.
 */
import type { EventOf, UsernameAvailability } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { schema, type Tx } from '../../platform/db/index.js';
import { ApiError } from '../../platform/errors.js';
import type { Outbox } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { isUsername, nameProblems } from './names.js';
import { presentUser, type UserRow } from './present.js';

/** The profile part of an upsert or a PATCH /v1/me, as the wire names it. */
export interface ProfileFieldsInput {
  full_name?: string | null | undefined;
  title?: string | null | undefined;
  pronouns?: string | null | undefined;
  about?: string | null | undefined;
  phone?: string | null | undefined;
  time_zone?: string | null | undefined;
}

/** The runtime's zone names by lower case, for spelling a valid name the usual way. */
let zoneNames: Map<string, string> | null = null;

/**
 * `tz` as a zone name the runtime knows, spelled as the zone list spells it (`america/new_york`
 * → `America/New_York`), else VALIDATION_ERROR. The name given is kept, not ICU's canonical one:
 * ICU maps `Asia/Kolkata` back to the old `Asia/Calcutta`, which people would not recognize.
 */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ApiError('VALIDATION_ERROR', `Unknown time zone: ${tz}`, { field: 'time_zone' });
  }
  zoneNames ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
  return zoneNames.get(tz.toLowerCase()) ?? (tz.toUpperCase() === 'UTC' ? 'UTC' : tz);
}

/** Blank text clears a field, so a form's emptied input means "none" rather than " ". */
const clean = (v: string | null) => (v === null || v.trim() === '' ? null : v.trim());

/** The columns to set for the profile fields sent (absent ones are left as they are). */
export function profileColumns(input: ProfileFieldsInput): Partial<typeof schema.users.$inferInsert> {
  const set: Partial<typeof schema.users.$inferInsert> = {};
  if (input.full_name !== undefined) set.fullName = clean(input.full_name);
  if (input.title !== undefined) set.title = clean(input.title);
  if (input.pronouns !== undefined) set.pronouns = clean(input.pronouns);
  if (input.about !== undefined) set.about = input.about === null || input.about.trim() === '' ? null : input.about;
  if (input.phone !== undefined) set.phone = clean(input.phone);
  if (input.time_zone !== undefined) set.timeZone = input.time_zone === null ? null : checkTimeZone(input.time_zone);
  return set;
}

/**
 * Tell everyone who shares a channel with the user, and the user's own connections, that the
 * profile is now `row` (`user.updated`, after commit). One statement finds them; each gets the
 * same event object, so the bus serializes it once. Custom field values are left out: who may
 * see them depends on the viewer (protocol profiles.ts).
 */
export async function announceUserUpdated(tx: Tx, out: Outbox, appId: string, row: UserRow): Promise<void> {
  const ma = alias(schema.members, 'ma');
  const mb = alias(schema.members, 'mb');
  const rows = await tx
    .selectDistinct({ userId: mb.userId })
    .from(ma)
    .innerJoin(mb, and(eq(mb.appId, ma.appId), eq(mb.cid, ma.cid)))
    .where(and(eq(ma.appId, appId), eq(ma.userId, row.id)));
  const ids = new Set(rows.map((r) => r.userId));
  ids.add(row.id);
  const event: EventOf<'user.updated'> = {
    type: 'user.updated',
    user: presentUser(row),
    created_at: row.updatedAt.toISOString(),
  };
  for (const userId of ids) out.push({ to: 'user', appId, userId, event });
}

/**
 * Whether `name` could be the caller's username now: `invalid` (not the username pattern),
 * `reserved`, or `taken` by another user or a user group of the app (any case); the caller's own
 * is available. The same check as every write of a username (names.ts), so the answer holds.
 */
export async function usernameAvailability(
  svc: Services,
  appId: string,
  name: string,
  self: string | null,
): Promise<UsernameAvailability> {
  if (!isUsername(name)) return { available: false, reason: 'invalid' };
  // A person asks for themself (the words reserved to people apply); the server token, for a
  // user it would set (only the mention keywords do).
  const [p] = await nameProblems(svc.db, appId, [{ name, owner: { user: self ?? '', chosen: self !== null } }]);
  return p ? { available: false, reason: p.reason } : { available: true };
}

import type { User } from '@parley/protocol';
import type { schema } from '../../platform/db/index.js';

export type UserRow = typeof schema.users.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * A user row as the wire shows it. Expired custom statuses are shown as none. `fields`: the
 * custom field values the viewer may see (features/users/fields.ts `visibleValues`), only where
 * the viewer is known; left out everywhere else.
 */
export function presentUser(row: UserRow, presence?: User['presence'], fields?: Record<string, string>): User {
  const statusLive = row.statusText !== null && (!row.statusExpiresAt || row.statusExpiresAt.getTime() > Date.now());
  return {
    id: row.id,
    name: row.name,
    username: row.username,
    image: row.image,
    image_blurhash: row.imageBlurhash,
    role: row.role as User['role'],
    ...(presence ? { presence } : {}),
    status: statusLive
      ? { text: row.statusText as string, emoji: row.statusEmoji, expires_at: iso(row.statusExpiresAt) }
      : null,
    last_active_at: iso(row.lastActiveAt),
    full_name: row.fullName,
    title: row.title,
    pronouns: row.pronouns,
    about: row.about,
    phone: row.phone,
    time_zone: row.timeZone,
    ...(fields ? { fields } : {}),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

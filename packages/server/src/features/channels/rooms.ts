/**
 * The channel ids of spaces' rooms: features/spaces makes a room, and features/calls tells a
 * call in one (the room's meeting) from any other. Here, below both, as a channel's id is
 * channels' to say.
 */

/** The room channel of a space: a private (`group`) channel whose members are who is in the space. */
export const roomCid = (spaceId: string) => `group:space-${spaceId}`;
/** The space a room channel belongs to, or null for any other channel. */
export const spaceOfRoom = (cid: string): string | null => (cid.startsWith('group:space-') ? cid.slice(12) : null);

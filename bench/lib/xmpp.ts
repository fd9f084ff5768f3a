/** Shared by the orchestrator and the load generator: how a bench room is named in XMPP. */

/** A room name as a JID localpart (nodeprep forbids ':' and a few more). */
export const mucRoom = (room: string): string => room.toLowerCase().replace(/[^a-z0-9._-]/g, '_');

/**
 * Version of the wire protocol spoken between Parley servers and clients.
 *
 * History (bump on any change a deployed client could notice; never reuse a number):
 * - 1 (2026-11): first public contract: apps, users, channels, messages, threads,
 *   reactions, reads, typing, presence, per-channel seq and event replay.
 */
export const PROTOCOL_VERSION = 1;

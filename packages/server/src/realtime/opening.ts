/**
 * What a connection needs when it opens. A module of its own: the gateway asks for it
 * (`GatewayHooks.open`) and the channels feature's batched read answers it, and `Services`
 * names that batcher without importing the gateway.
 */
import type { User } from '@parley/protocol';
import type { DndSchedule } from '../platform/db/schema.js';

/** What a connection needs when it opens: the user, and each channel they are a member of with its last seq. */
export interface Opening {
  /** The user as presented (presence is added by the gateway). */
  user: User;
  channels: { cid: string; lastSeq: number }[];
  /** An app-wide ban stands: the socket closes with 4503 BANNED instead of saying hello. */
  banned?: boolean;
  /** The user was deleted (features/admin): their tokens open no socket. */
  deleted?: boolean;
  /** Their do-not-disturb (null: no settings saved), so presence shows busy without a read. */
  dnd?: DndPrefs | null;
  /** Every feature flag of the app, evaluated for the user (the hello's `flags`). */
  flags?: Record<string, boolean>;
}

/** What decides a user's do-not-disturb (their notification settings' columns). */
export interface DndPrefs {
  dndUntil: Date | null;
  dndSchedule: DndSchedule | null;
  timeZone: string;
}

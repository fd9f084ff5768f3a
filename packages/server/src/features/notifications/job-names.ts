/** The notifications feature's kinds of job, by name (handlers in jobs.ts and digest.ts). */
import type { PushPayload } from '@parley/protocol';
import { jobRef } from '../../platform/jobs/queue.js';

export interface NotifyJob {
  /** Sent messages (coalesced per tick by trigger.ts), oldest first. */
  items: { appId: string; messageId: string }[];
}

/** Decide, for every member of each message's channel, whether to push now, later or never. */
export const NOTIFY = jobRef<NotifyJob>('notifications.message');

export interface DeliverJob {
  appId: string;
  userId: string;
  messageId: string;
}

/** The second look after the grace period (the user was active somewhere): push if still unread. */
export const DELIVER = jobRef<DeliverJob>('notifications.deliver');

/** One device or browser subscription of a user. */
export interface PushTarget {
  kind: 'web' | 'native';
  id: string;
}

export interface PushJob {
  appId: string;
  userId: string;
  target: PushTarget;
  /** What was pushed (the badge as it was then: a retry resends the same notification). */
  payload: PushPayload;
  collapseId: string;
  urgency: 'normal' | 'high';
}

/**
 * A push to one target that failed for a transient reason (5xx, 429, timeout), tried again
 * with backoff; the other targets of that push are not sent to again.
 */
export const PUSH = jobRef<PushJob>('notifications.push');

export interface DigestJob {
  appId: string;
  userId: string;
}

/** Email a user the mentions and DMs they have left unread for a while. */
export const DIGEST = jobRef<DigestJob>('notifications.digest');

export interface DndEndJob {
  appId: string;
  userId: string;
  /** The `dnd_until` it was made for: a pause changed since has its own job. */
  until: string;
}

/** A do-not-disturb pause runs out: its busy presence is announced as cleared, at that time (dnd-end.ts). */
export const DND_END = jobRef<DndEndJob>('notifications.dnd-end');

export interface DndWindowJob {
  appId: string;
  userId: string;
  /** The instant the daily window opens or closes. */
  at: string;
  /** The schedule and time zone it was computed from: a schedule changed since has its own job. */
  key: string;
}

/** A daily DND window opens or closes: busy is announced at that time, and the next change scheduled (dnd-end.ts). */
export const DND_WINDOW = jobRef<DndWindowJob>('notifications.dnd-window');

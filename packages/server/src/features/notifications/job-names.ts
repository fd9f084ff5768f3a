/** The notifications feature's kinds of job, by name (handlers in jobs.ts and digest.ts). */
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

export interface DigestJob {
  appId: string;
  userId: string;
}

/** Email a user the mentions and DMs they have left unread for a while. */
export const DIGEST = jobRef<DigestJob>('notifications.digest');

/** The links feature's kind of job, by name (its handler is in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

export interface UnfurlJob {
  appId: string;
  messageId: string;
}

/**
 * Make (or take from the cache) the cards of a message's preview URLs and put them on the
 * message (`message.updated`). Enqueued by a send or an edit that leaves URLs without a card.
 */
export const UNFURL = jobRef<UnfurlJob>('links.unfurl');

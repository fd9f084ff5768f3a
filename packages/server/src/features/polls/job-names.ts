/** The polls feature's kind of job, by name (its handler is in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

/** Close a poll at its end time; closing an already closed poll does nothing. */
export const CLOSE_POLL = jobRef<{ appId: string; messageId: string }>('polls.close');

/** The messages feature's kinds of job, by name (the send path schedules them, polls.ts; the handler is in polls/jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

/** Close a poll at its end time; closing an already closed poll does nothing. */
export const CLOSE_POLL = jobRef<{ appId: string; messageId: string }>('polls.close');

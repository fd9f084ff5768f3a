/** The reminders feature's kinds of job, by name (handlers in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

/** Deliver a reminder that is due (a DM from the app's bot). */
export const REMIND = jobRef<{ appId: string; id: string }>('reminders.remind');
/** Send a scheduled message that is due, as its author. */
export const SEND_SCHEDULED = jobRef<{ appId: string; id: string }>('scheduled.send');

/** The users feature's kinds of job, by name (the handler is in reminders/jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

/** Clear a user's custom status when its time is up, and tell who shares a channel. */
export const CLEAR_STATUS = jobRef<{ appId: string; userId: string; expiresAt: string }>('users.status-expire');

/** The admin feature's kinds of job, by name (handlers in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

export interface DeleteUserJob {
  appId: string;
  userId: string;
  mode: 'soft' | 'hard';
}
export interface DeleteChannelJob {
  appId: string;
  cid: string;
}
export interface ExportJob {
  appId: string;
  exportId: string;
}

/** Delete (soft or hard) a user: deletion.ts. */
export const DELETE_USER = jobRef<DeleteUserJob>('admin.delete_user');
/** Delete a channel and everything in it: deletion.ts. */
export const DELETE_CHANNEL = jobRef<DeleteChannelJob>('admin.delete_channel');
/** Make a user's data export: export.ts. */
export const MAKE_EXPORT = jobRef<ExportJob>('admin.export');

/** The files feature's kinds of job, by name (their handlers are in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

export interface FileJob {
  appId: string;
  fileId: string;
}

/** Remove an upload no message claimed (or one cancelled): its bytes, thumbnails and row. */
export const EXPIRE_UPLOAD = jobRef<FileJob>('files.expire');
/** Make an image's blurhash and thumbnails, then tell the channel (`message.updated`). */
export const MAKE_MEDIA = jobRef<FileJob>('files.media');
/** Remove a direct upload's incoming object once it can no longer be completed (features/files/direct.ts). */
export const EXPIRE_DIRECT = jobRef<FileJob>('files.expire-direct');

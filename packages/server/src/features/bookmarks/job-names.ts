/** The bookmarks feature's kind of job, by name (handler in jobs.ts). */
import { jobRef } from '../../platform/jobs/queue.js';

/** Fill a link bookmark's title, site and icon from the link preview cache. */
export const UNFURL_BOOKMARK = jobRef<{ appId: string; id: string; userId: string }>('bookmarks.unfurl');

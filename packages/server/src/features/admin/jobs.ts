/** The admin feature's jobs: deletions, exports, and the hourly sweep of expired exports and old samples. */

import { pruneIdempotencyKeys } from '../../platform/idempotency.js';
import type { Services } from '../../services.js';
import { sweepSigninLockouts } from '../accounts/index.js';
import { pruneSamples } from '../analytics/index.js';
import { forgetUser } from '../users/index.js';
import { deleteChannel, deleteUser } from './deletion.js';
import { runExport, sweepExports } from './export.js';
import {
  DELETE_CHANNEL,
  DELETE_USER,
  type DeleteChannelJob,
  type DeleteUserJob,
  type ExportJob,
  MAKE_EXPORT,
} from './job-names.js';

const EXPORT_RETRIES = 3;

export async function defineAdminJobs(svc: Services): Promise<void> {
  await svc.jobs.define<DeleteUserJob>({
    ...DELETE_USER,
    expireInSeconds: 3600,
    concurrency: 1,
    run: async ({ appId, userId, mode }) => {
      const counts = await deleteUser(svc, appId, userId, mode);
      // Their token stops working here now, on other nodes within a minute (users/actions.ts).
      forgetUser(appId, userId);
      svc.log.info({ appId, userId, mode, ...counts }, 'deleted a user');
    },
  });
  await svc.jobs.define<DeleteChannelJob>({
    ...DELETE_CHANNEL,
    expireInSeconds: 3600,
    concurrency: 1,
    run: async ({ appId, cid }) => {
      await deleteChannel(svc, appId, cid);
    },
  });
  await svc.jobs.define<ExportJob>({
    ...MAKE_EXPORT,
    retryLimit: EXPORT_RETRIES,
    expireInSeconds: 1800,
    concurrency: 1,
    run: async ({ appId, exportId }, job) => runExport(svc, appId, exportId, job.retryCount >= EXPORT_RETRIES),
  });
  await svc.jobs.defineRecurring('admin.sweep', 3600, async () => {
    await sweepExports(svc);
    await pruneSamples(svc, svc.config.auditRetentionDays);
    await sweepSigninLockouts(svc);
    await pruneIdempotencyKeys(svc.db, svc.clock());
  });
}

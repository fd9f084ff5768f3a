/** The polls feature's job: close a poll at its end time (exactly once: closing is idempotent). */
import type { Services } from '../../services.js';
import { CLOSE_POLL } from '../messages/index.js';
import { closePollAtEnd } from './actions.js';

export async function definePollJobs(svc: Services): Promise<void> {
  await svc.jobs.define<{ appId: string; messageId: string }>({
    name: CLOSE_POLL.name,
    retryLimit: 10,
    run: (d) => closePollAtEnd(svc, d.appId, d.messageId),
  });
}

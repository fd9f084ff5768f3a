/**
 * Mail through the durable job queue. `mailer.queue()` hands a mail here in the transaction of
 * the request that causes it: one `mail.send` job per mail, enqueued on that transaction, so a
 * mail exists exactly when the request's change commits and survives the process that made it
 * (a restart, a crash, a node taken out), and an SMTP server that is down
 * or refuses for a while is tried again with backoff (about 5 s, 10 s, 20 s … for some 85
 * minutes; `config.mailRetrySeconds` sets the first wait) until it takes the mail. Every outcome is logged: sent (`info`), not yet (`warn`,
 * with the attempt), given up (`error`; the job stays `failed` for `GET /v1/admin/jobs/failed`
 * and can be retried from there).
 *
 * The mail is sealed under the master key in the job's data: reset and verification links are
 * credentials, and a database dump alone must not hold them readable (as with app secrets,
 * platform/secrets.ts).
 *
 * The handler may run twice for one mail (a crash between the SMTP server's acceptance and the
 * job's completion): at least once, like every job.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type JobQueue, jobRef } from './jobs/queue.js';
import type { Mail, Mailer, MailQueue } from './mailer.js';
import type { Sealer } from './secrets.js';

/** One mail to send: what it is for (logs) and the mail, sealed. */
export interface SendMailJob {
  what: string;
  sealed: string;
}

export const SEND_MAIL = jobRef<SendMailJob>('mail.send');

/** Retries after the first failure before a mail is given up. */
export const MAIL_RETRIES = 10;

const LIVE = new Set(['created', 'retry', 'active']);

/** Whether jobs of kind `name` end in mail: `mail.send`, and the kinds that build one (`*.mail`). */
const isMailKind = (name: string) => name === SEND_MAIL.name || name.endsWith('.mail');

/** The queue `createMailer` hands its mail to. */
export function mailQueue(jobs: JobQueue, sealer: Sealer): MailQueue {
  return {
    async enqueue(q, what, mail) {
      await jobs.enqueue(q, SEND_MAIL, { what, sealed: sealer.seal(JSON.stringify(mail)) });
    },
    wake() {
      jobs.wake(SEND_MAIL.name);
    },
    async idle() {
      const counts = await jobs.counts();
      return !counts.some((c) => isMailKind(c.name) && LIVE.has(c.state) && c.n > 0);
    },
  };
}

/** The `mail.send` worker. */
export async function defineMailJobs(
  jobs: JobQueue,
  mailer: Pick<Mailer, 'sendMail'>,
  sealer: Sealer,
  log: FastifyBaseLogger,
  retrySeconds = 5,
): Promise<void> {
  await jobs.define<SendMailJob>({
    ...SEND_MAIL,
    retryLimit: MAIL_RETRIES,
    retryDelaySeconds: retrySeconds,
    // An SMTP exchange is a few round trips; bounded by the mailer's own timeout (15 s).
    expireInSeconds: 120,
    concurrency: 4,
    async run(data, job) {
      const mail = JSON.parse(sealer.open(data.sealed)) as Mail;
      const fields = { job: data.what, to: mail.to, subject: mail.subject, attempt: job.retryCount + 1 };
      try {
        await mailer.sendMail(mail);
      } catch (err) {
        if (job.retryCount >= MAIL_RETRIES) log.error({ err, ...fields }, 'mail given up');
        else log.warn({ err, ...fields }, 'mail not sent yet: will try again');
        throw err;
      }
      log.info(fields, 'mail sent');
    },
  });
}

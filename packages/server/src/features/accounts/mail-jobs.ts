/**
 * Mail whose content depends on a look-up that the request must not wait for: the answer to
 * "forgot password" and "change email" is the same, in the same time, whether the address has
 * an account (recovery.ts). The request enqueues an `accounts.mail` job (one insert, committed
 * before the answer, whatever the address); the job looks the address up, issues the link's
 * token and queues the mail in one transaction. So no crash loses the mail: before the commit
 * of the job there was no answer yet; after it, the job runs (again, after a crash) until its
 * transaction commits the token and the mail together.
 *
 * The job's data is sealed under the master key, as the mail's is (platform/mail-queue.ts): a
 * database dump holds no address in the clear.
 */
import { EMAIL_CHANGE_TOKEN_TTL_SECONDS, RESET_TOKEN_TTL_SECONDS } from '@parley/protocol';
import type { Queryable } from '../../platform/db/index.js';
import { jobRef } from '../../platform/jobs/queue.js';
import type { Mail } from '../../platform/mailer.js';
import type { Services } from '../../services.js';
import { issueMailToken } from './mail-tokens.js';
import { changeEmailMail, emailTakenMail, resetMail } from './mails.js';
import { accountByEmail } from './queries.js';

/** What to mail once the address is looked up. */
export type AccountMail =
  | { kind: 'password reset'; email: string }
  | { kind: 'email change'; accountId: string; newEmail: string };

/** Named `*.mail`: the mail queue counts it as mail still to send (`mailer.settled()`). */
export const ACCOUNT_MAIL = jobRef<{ sealed: string }>('accounts.mail');

/** Enqueue the job that builds and queues `m`, in `q` (the request's transaction, or the database). */
export async function enqueueAccountMail(svc: Services, q: Queryable, m: AccountMail): Promise<void> {
  await svc.jobs.enqueue(q, ACCOUNT_MAIL, { sealed: svc.sealer.seal(JSON.stringify(m)) });
}

/** Start the jobs enqueued by `enqueueAccountMail` (after the transaction that enqueued them committed). */
export function wakeAccountMail(svc: Services): void {
  svc.jobs.wake(ACCOUNT_MAIL.name);
}

async function build(svc: Services, tx: Queryable, m: AccountMail): Promise<Mail | null> {
  if (m.kind === 'password reset') {
    const account = await accountByEmail(tx, m.email);
    if (!account) return null;
    const token = await issueMailToken(tx, account.id, 'reset_password', RESET_TOKEN_TTL_SECONDS, svc.clock());
    return resetMail(svc.config, account.email, token, RESET_TOKEN_TTL_SECONDS);
  }
  if (await accountByEmail(tx, m.newEmail)) return emailTakenMail(svc.config, m.newEmail);
  const token = await issueMailToken(
    tx,
    m.accountId,
    'change_email',
    EMAIL_CHANGE_TOKEN_TTL_SECONDS,
    svc.clock(),
    m.newEmail,
  );
  return changeEmailMail(svc.config, m.newEmail, token, EMAIL_CHANGE_TOKEN_TTL_SECONDS);
}

export async function defineAccountJobs(svc: Services): Promise<void> {
  await svc.jobs.define<{ sealed: string }>({
    ...ACCOUNT_MAIL,
    async run(data) {
      const m = JSON.parse(svc.sealer.open(data.sealed)) as AccountMail;
      const queued = await svc.db.transaction(async (tx) => {
        const mail = await build(svc, tx, m);
        if (mail) await svc.mailer.queue(tx, m.kind, mail);
        return !!mail;
      });
      if (queued) svc.mailer.wake();
    },
  });
}

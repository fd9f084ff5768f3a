/**
 * Outgoing mail: SMTP through nodemailer when `PARLEY_SMTP_URL` is set, else the server log
 * (development: the mail's text, links included, is written at `warn`; with
 * `NODE_ENV=production` only its recipient and subject are, so no reset link lands in a
 * production log).
 *
 * Mail never holds up an answer, and no crash loses one: features `queue()` it in the
 * transaction of the request that causes it, on the durable job queue (`queue`,
 * platform/mail-queue.ts), so the mail exists exactly when the request's change commits, and
 * `wake()` its sender after the commit. The queue sends it with retries and logs each outcome.
 * A mail that depends on a look-up the answer must not wait for (a reset link: the answer is the
 * same whether the address has an account) is a job of its own, enqueued by the request, that
 * builds the mail and queues it in its own transaction (a kind named `*.mail`). Each attempt is
 * bounded by the transport's timeouts and `timeoutMs` overall.
 */

import type { FastifyBaseLogger } from 'fastify';
import type { Queryable } from './db/index.js';
import { nodemailer } from './lazy-deps.js';

export interface Mail {
  to: string;
  subject: string;
  /** Plain text; every mail has it (some readers show nothing else). */
  text: string;
  /** Extra headers (e.g. `List-Unsubscribe`). */
  headers?: Record<string, string>;
}

export interface MailerOptions {
  smtpUrl?: string | undefined;
  from: string;
  log: FastifyBaseLogger;
  /** Whether the log fallback writes the mail's text (development) or only its headers. */
  logBodies: boolean;
  /** Longest one delivery may take, in ms, before it is given up (and logged). */
  timeoutMs?: number;
  /** Where `queue()` keeps its mail; without one it is sent at once, from memory (no durability). */
  queue?: MailQueue;
}

/** A durable queue of mail (platform/mail-queue.ts). */
export interface MailQueue {
  /** Keep `mail` to be sent, in the caller's transaction `q`: it exists exactly when `q` commits. */
  enqueue(q: Queryable, what: string, mail: Mail): Promise<void>;
  /** Start sending what was kept (after the transaction that kept it committed). */
  wake(): void;
  /** Whether no mail is waiting, being sent or due for a retry. */
  idle(): Promise<boolean>;
}

export interface Mailer {
  /** `smtp`: mail is sent; `log`: it is only written to the server log. */
  readonly delivery: 'smtp' | 'log';
  /** Deliver one mail now; rejects when the SMTP server refuses it or does not answer in time. */
  sendMail(mail: Mail): Promise<void>;
  /**
   * Keep `mail` to be sent, in `q` — the transaction of the request that causes it — so a crash
   * at any instant either loses the request's change and its mail, or keeps both. Call `wake()`
   * once `q` has committed. Without a durable queue, the mail is sent from memory after `wake()`.
   */
  queue(q: Queryable, what: string, mail: Mail): Promise<void>;
  /** Start sending the mail queued so far (call after the transaction that queued it committed). */
  wake(): void;
  /**
   * Resolves when the queue holds no mail still to build or send (sent, skipped or given up) —
   * or after `ms`, whichever is first.
   */
  settled(ms?: number): Promise<void>;
  /** Wait (at most `ms`) for mail still being sent from memory (no durable queue). */
  flush(ms?: number): Promise<void>;
  /** `flush`, then close the SMTP connection pool. */
  close(ms?: number): Promise<void>;
}

export function createMailer(opts: MailerOptions): Mailer {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const transport = opts.smtpUrl
    ? nodemailer().createTransport({
        url: opts.smtpUrl,
        // Bounds of their own for each phase, inside the overall one below.
        connectionTimeout: 5_000,
        greetingTimeout: 5_000,
        socketTimeout: 10_000,
      } as Parameters<ReturnType<typeof nodemailer>['createTransport']>[0])
    : null;
  const pending = new Set<Promise<void>>();

  async function sendMail(mail: Mail): Promise<void> {
    if (!transport) {
      const fields = opts.logBodies ? mail : { to: mail.to, subject: mail.subject };
      opts.log.warn({ mail: fields }, 'mail not sent (no PARLEY_SMTP_URL): written to the log instead');
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        transport.sendMail({
          from: opts.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.headers ? { headers: mail.headers } : {}),
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`SMTP delivery took over ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Mail kept in memory until `wake()` (no durable queue: tests, tools). */
  const held: { what: string; mail: Mail }[] = [];

  async function queue(q: Queryable, what: string, mail: Mail): Promise<void> {
    if (opts.queue) await opts.queue.enqueue(q, what, mail);
    else held.push({ what, mail });
  }

  function wake(): void {
    if (opts.queue) {
      opts.queue.wake();
      return;
    }
    for (const { what, mail } of held.splice(0)) {
      const run = sendMail(mail)
        .catch((err: unknown) =>
          opts.log.error({ err, mail: { to: mail.to, subject: mail.subject }, job: what }, 'mail failed'),
        )
        .finally(() => pending.delete(run));
      pending.add(run);
    }
  }

  return {
    delivery: transport ? 'smtp' : 'log',
    sendMail,
    queue,
    wake,
    async settled(ms = 30_000) {
      const until = Date.now() + ms;
      while (pending.size > 0) await Promise.allSettled([...pending]);
      while (opts.queue && Date.now() < until && !(await opts.queue.idle()))
        await new Promise((r) => setTimeout(r, 20));
    },
    flush,
    async close(ms = 5_000) {
      await flush(ms);
      transport?.close();
    },
  };

  async function flush(ms = 5_000) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...pending]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }
}

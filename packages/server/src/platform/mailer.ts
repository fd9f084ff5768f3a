/**
 * Outgoing mail: SMTP through nodemailer when `PARLEY_SMTP_URL` is set, else the server log
 * (development: the mail's text, links included, is written at `warn`; with
 * `NODE_ENV=production` only its recipient and subject are, so no reset link lands in a
 * production log).
 *
 * Mail never holds up an answer. Features hand it over with `later()` after their transaction
 * has committed; the job that builds the mail runs beside the request, and the mail it returns
 * goes to the durable job queue (`queue`, platform/mail-queue.ts), which sends it with retries
 * and logs each outcome — a mail survives a restart or a crash once it is queued. Each attempt
 * is bounded by the transport's timeouts and `timeoutMs` overall. `close()` waits, within a
 * bound, for mails still being built and queued.
 */
import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';

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
  /** Where `later()` hands its mail; without one it is sent at once, from memory. */
  queue?: MailQueue;
}

/** A durable queue of mail (platform/mail-queue.ts). */
export interface MailQueue {
  /** Keep `mail` to be sent (committed when this resolves). */
  enqueue(what: string, mail: Mail): Promise<void>;
  /** Whether no mail is waiting, being sent or due for a retry. */
  idle(): Promise<boolean>;
}

export interface Mailer {
  /** `smtp`: mail is sent; `log`: it is only written to the server log. */
  readonly delivery: 'smtp' | 'log';
  /** Deliver one mail now; rejects when the SMTP server refuses it or does not answer in time. */
  sendMail(mail: Mail): Promise<void>;
  /**
   * Run `job` beside the current request — it may read and write, then return the mail to
   * send, or null for none — and queue that mail. Never throws: failures are logged.
   */
  later(what: string, job: () => Promise<Mail | null>): void;
  /**
   * Resolves when every job handed to `later()` so far has finished and the queue holds no mail
   * still to send (sent, skipped or given up) — or after `ms`, whichever is first.
   */
  settled(ms?: number): Promise<void>;
  /** Wait (at most `ms`) for mail still being built and queued (before the queue stops). */
  flush(ms?: number): Promise<void>;
  /** `flush`, then close the SMTP connection pool. */
  close(ms?: number): Promise<void>;
}

export function createMailer(opts: MailerOptions): Mailer {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const transport = opts.smtpUrl
    ? nodemailer.createTransport({
        url: opts.smtpUrl,
        // Bounds of their own for each phase, inside the overall one below.
        connectionTimeout: 5_000,
        greetingTimeout: 5_000,
        socketTimeout: 10_000,
      } as Parameters<typeof nodemailer.createTransport>[0])
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

  function later(what: string, job: () => Promise<Mail | null>): void {
    let mail: Mail | null = null;
    const run = (async () => {
      mail = await job();
      if (!mail) return;
      if (opts.queue) await opts.queue.enqueue(what, mail);
      else await sendMail(mail);
    })()
      .catch((err: unknown) => {
        const m = mail as Mail | null;
        opts.log.error({ err, mail: m ? { to: m.to, subject: m.subject } : undefined, job: what }, 'mail failed');
      })
      .finally(() => pending.delete(run));
    pending.add(run);
  }

  return {
    delivery: transport ? 'smtp' : 'log',
    sendMail,
    later,
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

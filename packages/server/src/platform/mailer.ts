/**
 * Outgoing mail: SMTP through nodemailer when `PARLEY_SMTP_URL` is set, else the server log
 * (development: the mail's text, links included, is written at `warn`; with
 * `NODE_ENV=production` only its recipient and subject are, so no reset link lands in a
 * production log).
 *
 * Mail never holds up an answer. Features hand it over with `later()` after their transaction
 * has committed; it runs beside the request, each attempt bounded by the transport's timeouts
 * and `timeoutMs` overall, and a failure is logged with the recipient and subject (never
 * silently dropped). `close()` waits, within a bound, for what is still being sent.
 *
 * `later()` is the seam for a durable job queue: when one lands it can take over the job
 * (persist it, retry it) without any feature changing.
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
}

export interface Mailer {
  /** `smtp`: mail is sent; `log`: it is only written to the server log. */
  readonly delivery: 'smtp' | 'log';
  /** Deliver one mail now; rejects when the SMTP server refuses it or does not answer in time. */
  sendMail(mail: Mail): Promise<void>;
  /**
   * Run `job` beside the current request — it may read and write, then return the mail to
   * send, or null for none — and send that mail. Never throws: failures are logged.
   */
  later(what: string, job: () => Promise<Mail | null>): void;
  /** Resolves when every job handed to `later()` so far has finished (sent, skipped or failed). */
  settled(): Promise<void>;
  /** Wait (at most `ms`) for mail still being sent, then close the SMTP connection pool. */
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
      if (mail) await sendMail(mail);
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
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close(ms = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...pending]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ms);
        }),
      ]);
      clearTimeout(timer);
      transport?.close();
    },
  };
}

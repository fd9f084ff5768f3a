/**
 * A real SMTP server for tests (the npm `smtp-server`), on a free loopback port: every mail it
 * receives is parsed (`mailparser`) and kept, and tests wait for the one they expect.
 */
import { type AddressObject, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  /** Header lines as received, by lower-case name (`list-unsubscribe` …). */
  headers: Record<string, string>;
}

export interface TestSmtp {
  /** `smtp://127.0.0.1:<port>`, for PARLEY_SMTP_URL. */
  url: string;
  mails: ReceivedMail[];
  port: number;
  /** The first mail to `to` (and matching `subject`, if given) received after `since` mails, waiting up to `ms`. */
  waitFor(to: string, opts?: { subject?: RegExp; since?: number; ms?: number }): Promise<ReceivedMail>;
  /** Mails to `to` received so far. */
  to(to: string): ReceivedMail[];
  close(): Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => (v.address ?? '').toLowerCase()));

/**
 * `hold`: every mail's DATA is answered only once it resolves (a slow server); `port`: listen
 * there (a server that comes back where one was down), else on a free port.
 */
export async function startSmtp(opts: { hold?: Promise<void>; port?: number } = {}): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (m) => {
          await opts.hold;
          mails.push({
            to: addresses(m.to),
            from: addresses(m.from)[0] ?? '',
            subject: m.subject ?? '',
            text: m.text ?? '',
            headers: Object.fromEntries(
              m.headerLines.map((l) => [l.key, l.line.slice(l.line.indexOf(':') + 1).trim()]),
            ),
          });
          for (const w of waiters) w();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  const match = (to: string, subject?: RegExp) => (m: ReceivedMail) =>
    m.to.includes(to.toLowerCase()) && (!subject || subject.test(m.subject));

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    port,
    to: (to) => mails.filter(match(to)),
    waitFor(to, { subject, since = 0, ms = 10_000 } = {}) {
      const find = () => mails.slice(since).find(match(to, subject));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = find();
          if (!m) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''} within ${ms} ms`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token of the link in a mail (`…?token=…`). */
export function linkToken(mail: ReceivedMail): string {
  const m = /[?&]token=([A-Za-z0-9_%-]+)/.exec(mail.text);
  if (!m?.[1]) throw new Error(`no link with a token in: ${mail.text}`);
  return decodeURIComponent(m[1]);
}

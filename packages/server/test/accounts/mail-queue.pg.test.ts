/**
 * Mail goes through the durable job queue (platform/mail-queue.ts): an SMTP server that is down
 * gets the mail once it is back; a mail queued or in flight when the server stops is sent by
 * the next one on the same database; every outcome is in the log; a reset link is never
 * readable in the queue's table. Real SMTP servers (smtp-server), a real database.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { eventually, type Harness, startHarness, testDatabase } from '../harness.js';
import { buildAccount, ok, send } from './helpers.js';
import { linkToken, startSmtp, type TestSmtp } from './smtp.js';

const masterKey = randomBytes(32).toString('hex');
const RESET = /Reset your Parley password/;

/** A loopback port where no SMTP server listens (yet). */
async function deadPort(): Promise<number> {
  const s = await startSmtp();
  await s.close();
  return s.port;
}

/** A server whose log lines are kept, parsed. */
async function start(db: Awaited<ReturnType<typeof testDatabase>>, smtpPort: number, extra = {}) {
  const lines: Record<string, any>[] = [];
  const h = await startHarness(
    {
      smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
      masterKey,
      logLevel: 'info',
      mailRetrySeconds: 1,
      jobPollMs: 100,
      ...extra,
    },
    { database: db.database, logStream: { write: (s: string) => void lines.push(JSON.parse(s)) } },
  );
  return { h, lines };
}

const forgot = (h: Harness, to: string) =>
  send(h, { method: 'POST', url: '/v1/auth/password/forgot', payload: { email: to } });

const logged = (lines: Record<string, any>[], msg: string, to: string) =>
  lines.filter((l) => l.msg === msg && l.to === to && l.job === 'password reset');

let db: Awaited<ReturnType<typeof testDatabase>>;
const smtps: TestSmtp[] = [];
const servers: Harness[] = [];
beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  for (const h of servers) await h.close().catch(() => {});
  for (const s of smtps) await s.close().catch(() => {});
  await db.drop();
});

describe('mail through the job queue', () => {
  it('is sent once a down SMTP server comes back, each try logged', async () => {
    const port = await deadPort();
    const { h, lines } = await start(db, port);
    servers.push(h);
    const ada = await buildAccount(h, 'Ada');
    ok(await forgot(h, ada.account.email));
    await eventually(() => logged(lines, 'mail not sent yet: will try again', ada.account.email).length > 0, 15_000);
    const first = logged(lines, 'mail not sent yet: will try again', ada.account.email)[0];
    expect(first).toMatchObject({ attempt: 1, subject: 'Reset your Parley password', level: 40 });
    expect(JSON.stringify(first)).not.toContain('token=');

    const smtp = await startSmtp({ port });
    smtps.push(smtp);
    const mail = await smtp.waitFor(ada.account.email, { subject: RESET, ms: 30_000 });
    expect(linkToken(mail)).toBeTruthy();
    await eventually(() => logged(lines, 'mail sent', ada.account.email).length === 1, 10_000);
    expect(logged(lines, 'mail sent', ada.account.email)[0]?.attempt).toBeGreaterThan(1);
    await h.server.svc.mailer.settled();
    expect(smtp.to(ada.account.email).filter((m) => RESET.test(m.subject))).toHaveLength(1);
    await h.close();
    servers.pop();
  });

  it('keeps a queued mail across a restart, sealed in the table; the next server sends it and its link works', async () => {
    const port = await deadPort();
    const first = await start(db, port);
    servers.push(first.h);
    const bob = await buildAccount(first.h, 'Bob');
    ok(await forgot(first.h, bob.account.email));
    await eventually(
      () => logged(first.lines, 'mail not sent yet: will try again', bob.account.email).length > 0,
      15_000,
    );
    await first.h.close();
    servers.pop();

    // What waits in the queue's table holds no reset link and no address in the clear.
    const queued = await rows<{ data: unknown }>(
      db.database.db,
      sql`select data from pgboss.job where name = 'mail.send'`,
    );
    expect(queued.length).toBeGreaterThan(0);
    for (const q of queued) {
      const text = JSON.stringify(q.data);
      expect(text).not.toContain('reset-password');
      expect(text).not.toContain(bob.account.email);
    }

    const smtp = await startSmtp({ port });
    smtps.push(smtp);
    const second = await start(db, port);
    servers.push(second.h);
    const mail = await smtp.waitFor(bob.account.email, { subject: RESET, ms: 30_000 });
    const reset = await send(second.h, {
      method: 'POST',
      url: '/v1/auth/password/reset',
      payload: { token: linkToken(mail), new_password: 'another horse battery' },
    });
    expect(reset.status).toBe(200);
    await eventually(() => logged(second.lines, 'mail sent', bob.account.email).length === 1, 10_000);
    await second.h.close();
    servers.pop();
  });

  it('hands a mail still in flight at a stop back to the queue, and the next server sends it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = await startSmtp({ hold: gate });
    smtps.push(slow);
    const first = await start(db, slow.port, { jobStopTimeoutMs: 300 });
    servers.push(first.h);
    const cy = await buildAccount(first.h, 'Cy');
    ok(await forgot(first.h, cy.account.email));
    // The SMTP exchange has begun and is held by the server.
    await eventually(async () => {
      const c = await first.h.server.svc.jobs.counts();
      return c.some((x) => x.name === 'mail.send' && x.state === 'active');
    }, 15_000);
    await first.h.close();
    servers.pop();

    const good = await startSmtp();
    smtps.push(good);
    const second = await start(db, good.port);
    servers.push(second.h);
    await good.waitFor(cy.account.email, { subject: RESET, ms: 30_000 });
    release();
    await second.h.close();
    servers.pop();
  });
});

/**
 * No inbox item and no mail is lost to a crash (issue 54): a real server process is killed with
 * SIGKILL at random instants of a storm — mentions, @-replies in a thread, DMs, reactions, edits
 * that add a mention — and of a stream of sign-ups (each one mails a verification link), started
 * again, and killed again, several times. Then every message, reaction and edit the database
 * holds has the inbox items its recipients are owed, and every account the database holds has
 * its verification mail in the job queue.
 *
 * Before the inbox's outboxes (`inbox_pending`, written in the send's own statement, and
 * `inbox_tasks`, in a reaction's or an edit's transaction) an item was derived from memory after
 * its action committed, and a mail queued a few milliseconds after its request's commit: a kill
 * in those windows lost them.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/platform/auth.js';
import { openDatabase, rows } from '../../src/platform/db/index.js';
import { JOBS_SCHEMA } from '../../src/platform/jobs/install.js';
import { createSealer, loadMasterKey } from '../../src/platform/secrets.js';
import { call, crashFixture, exited, readyChild } from '../crash-fixture.js';
import { until } from '../jobs/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN = 'crash-loses-nothing-admin';
const MASTER_KEY = 'd5'.repeat(32);
const fixture = crashFixture('crash-nothing', ADMIN);

/** How many times the server is killed, and the most each sender sends (the inbox keeps 1,000 per user). */
const KILLS = 3;
const PER_SENDER = 60;
const SIGNUPS = 12;
/**
 * This run's own sign-up addresses: the per-address sign-up limit (5 a window) lives in Redis when
 * REDIS_URL is set, shared by every run on the machine, so fixed addresses were refused (429)
 * once a few CI runs had used them within the window.
 */
const RUN = randomBytes(4).toString('hex');

const child = () =>
  readyChild(fixture, path.join(here, '../hooks/scheduled-child.ts'), {
    PARLEY_RATE_MESSAGES: '0',
    PARLEY_SIGNUP_PER_IP: '1000000',
    PARLEY_HTTP_RATE_PER_IP: '1000000',
    PARLEY_HTTP_RATE_PER_USER: '1000000',
    PARLEY_HTTP_RATE_PER_SERVER: '1000000',
    PARLEY_MASTER_KEY: MASTER_KEY,
  });

type Headers = Record<string, string>;

/** The server of the moment: its URL once it answers, replaced at each restart. */
let current: { base: Promise<string>; generation: number } = { base: new Promise(() => {}), generation: 0 };
let running: ReturnType<typeof child> | null = null;

afterAll(() => {
  running?.proc.kill('SIGKILL');
});

/**
 * One request to whichever server runs now. A refused or cut connection (the server was killed)
 * waits for the next one and counts as `lost`: its outcome is unknown, which is the point — the
 * checks below go by what the database holds, not by what was answered.
 */
async function request(method: string, url: string, headers: Headers, body?: object) {
  const { base, generation } = current;
  try {
    return await call(await base, method, url, headers, body);
  } catch {
    // The server died under the request: wait for the next one.
    await until(
      'the next server',
      async () => current.generation,
      (g) => g > generation,
      120_000,
    );
    return null;
  }
}

describe('a crash at any instant', () => {
  it('loses no inbox item and no mail: SIGKILL at random points of a send and sign-up storm', async () => {
    const first = child();
    running = first;
    current = { base: first.ready, generation: 1 };
    const base = await first.ready;
    const created = await call(base, 'POST', '/v1/admin/apps', { authorization: `Bearer ${ADMIN}` }, { name: 'crash' });
    expect(created.status).toBe(200);
    const { api_key: key, api_secret: secret } = created.body;
    const as = async (u: string | null): Promise<Headers> => ({
      'x-api-key': key,
      authorization: `Bearer ${await signToken(secret, u)}`,
    });
    const server = await as(null);
    const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
    const h = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await as(u)] as const)));
    expect(
      (await call(base, 'POST', '/v1/users', server, { users: users.map((id) => ({ id, name: id, username: id })) }))
        .status,
    ).toBe(200);
    const group = await call(base, 'POST', '/v1/channels', h.u0 as Headers, {
      type: 'group',
      id: 'storm',
      members: ['u1', 'u2', 'u3', 'u4'],
    });
    expect(group.status).toBe(200);
    const dm = await call(base, 'POST', '/v1/channels', h.u3 as Headers, { type: 'dm', members: ['u3', 'u4'] });
    expect(dm.status).toBe(200);
    const dmCid = dm.body.channel.cid as string;
    const parent = await call(base, 'POST', '/v1/channels/group:storm/messages', h.u0 as Headers, {
      text: 'the thread everyone replies to',
    });
    expect(parent.status).toBe(200);
    const parentId = parent.body.message.id as string;
    // Messages the storm reacts to (u0's: each reaction owes u0 an item) and edits to name u3
    // (u1's: each edit that commits owes u3 a mention).
    const seed = async (user: string, text: string) => {
      const ids: string[] = [];
      for (let i = 0; i < PER_SENDER; i++) {
        const r = await call(base, 'POST', '/v1/channels/group:storm/messages', h[user] as Headers, {
          text: `${text} ${i}`,
        });
        expect(r.status).toBe(200);
        ids.push(r.body.message.id);
      }
      return ids;
    };
    const reactedTo = await seed('u0', 'react to me');
    const editedLater = await seed('u1', 'plain');

    // Who each sender's messages owe an item to, and what kind.
    const senders: { user: string; cid: string; owed: [string, string][]; body: (i: number) => object }[] = [
      {
        user: 'u0',
        cid: 'group:storm',
        owed: [
          ['u1', 'mention'],
          ['u2', 'mention'],
        ],
        body: (i) => ({ text: `@u1 @u2 a${i}` }),
      },
      { user: 'u1', cid: 'group:storm', owed: [['u0', 'mention']], body: (i) => ({ text: `@u0 b${i}` }) },
      {
        user: 'u2',
        cid: 'group:storm',
        owed: [['u0', 'thread']],
        body: (i) => ({ text: `e${i}`, parent_id: parentId }),
      },
      { user: 'u3', cid: dmCid, owed: [['u4', 'dm']], body: (i) => ({ text: `c${i}` }) },
      { user: 'u4', cid: dmCid, owed: [['u3', 'dm']], body: (i) => ({ text: `d${i}` }) },
    ];
    let answered = 0;
    let cut = 0;
    /** Each sign-up's answer (or `cut`), for the failure message: CI once found no account at all. */
    const signups: string[] = [];
    let done = false;
    const storm = [
      (async () => {
        for (const id of reactedTo)
          await request('POST', `/v1/messages/${id}/reactions`, h.u4 as Headers, { type: 'tada' });
      })(),
      (async () => {
        for (const [i, id] of editedLater.entries())
          await request('PATCH', `/v1/messages/${id}`, h.u1 as Headers, { text: `@u3 plain ${i}` });
      })(),
      ...senders.map(async (s) => {
        for (let i = 0; i < PER_SENDER; i++) {
          const r = await request('POST', `/v1/channels/${s.cid}/messages`, h[s.user] as Headers, s.body(i));
          if (r?.status === 200) answered++;
          else cut++;
        }
      }),
      (async () => {
        for (let i = 0; i < SIGNUPS; i++) {
          const r = await request(
            'POST',
            '/v1/auth/signup',
            {},
            {
              email: `storm-${i}-${RUN}@example.com`,
              password: `Storm-${i}-lighthouse-quartz!`,
              name: `Storm ${i}`,
            },
          );
          if (r && r.status >= 500) throw new Error(`sign-up answered ${r.status}: ${JSON.stringify(r.body)}`);
          signups.push(r ? `${r.status} ${JSON.stringify(r.body).slice(0, 200)}` : 'cut');
        }
      })(),
    ];
    const stormDone = Promise.all(storm).finally(() => {
      done = true;
    });

    // The kills: each once the new server has answered a random number of sends, plus a random
    // few milliseconds — random instants inside the storm, not between its requests.
    let kills = 0;
    let up = first;
    for (; kills < KILLS && !done; kills++) {
      const from = answered;
      const after = 5 + Math.floor(Math.random() * 30);
      await until(
        'sends on this server',
        async () => answered - from >= after || done,
        (v) => v,
        120_000,
      );
      if (done) break;
      // A random instant within the next few milliseconds: the time the test is about.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      up.proc.kill('SIGKILL');
      await exited(up.proc);
      up = child();
      running = up;
      current = { base: up.ready, generation: current.generation + 1 };
      await up.ready;
    }
    await stormDone;
    expect(kills).toBeGreaterThanOrEqual(2);
    expect(cut).toBeGreaterThan(0);
    const last = await up.ready;

    // What the database holds, read through the API: every message of both channels (their
    // event logs: every committed seq, thread replies included)…
    const stored = new Map<string, { user_id: string; cid: string; parent_id: string | null }>();
    const reacted = new Set<string>();
    const edited = new Set<string>();
    for (const cid of ['group:storm', dmCid]) {
      for (let after = 0; ; ) {
        const page = await call(last, 'GET', `/v1/channels/${cid}/events?after=${after}&limit=1000`, h.u3 as Headers);
        expect(page.status).toBe(200);
        const events = page.body.events as {
          type: string;
          seq: number;
          message?: { id: string; user_id: string; cid: string; parent_id: string | null; text: string };
        }[];
        for (const e of events) {
          if (e.type === 'message.new' && e.message) stored.set(e.message.id, e.message);
          // A reaction and an edit are in the log exactly when they committed.
          if (e.type === 'reaction.new' && e.message) reacted.add(e.message.id);
          if (e.type === 'message.updated' && e.message?.text.startsWith('@u3 ')) edited.add(e.message.id);
        }
        if (events.length < 1000) break;
        after = events[events.length - 1]?.seq ?? after;
      }
    }
    const owed = new Map<string, string>();
    for (const [id, m] of stored) {
      if (id === parentId || reactedTo.includes(id) || editedLater.includes(id)) continue;
      const s = senders.find((x) => x.user === m.user_id && x.cid === m.cid);
      for (const [u, kind] of s?.owed ?? []) owed.set(`${u} ${id}`, kind);
    }
    for (const id of reacted) owed.set(`u0 ${id}`, 'reaction');
    for (const id of edited) owed.set(`u3 ${id}`, 'mention');
    expect(stored.size).toBeGreaterThan(KILLS * 10);
    expect(reacted.size).toBeGreaterThan(0);
    expect(edited.size).toBeGreaterThan(0);

    // …and every inbox item, until each owed one is there (the next start derives what a kill left).
    const inboxes = async () => {
      const got = new Map<string, string>();
      for (const u of users)
        for (let cursor: string | undefined; ; ) {
          const page = await call(
            last,
            'GET',
            `/v1/inbox?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            h[u] as Headers,
          );
          expect(page.status).toBe(200);
          for (const it of page.body.items as { message_id: string | null; kind: string }[])
            if (it.message_id) got.set(`${u} ${it.message_id}`, it.kind);
          cursor = page.body.next ?? undefined;
          if (!cursor) break;
        }
      return [...owed].filter(([k, kind]) => got.get(k) !== kind).map(([k, kind]) => `${k} ${kind}`);
    };
    const lost = await until('every owed inbox item', inboxes, (l) => l.length === 0, 60_000).catch(() => inboxes());
    expect(lost).toEqual([]);

    // The mail: stop the server, then every account in the database has its verification mail
    // queued (sent already or not: the queue's own tests cover sending).
    up.proc.kill('SIGTERM');
    await exited(up.proc);
    const database = await openDatabase({ url: fixture.pgUrl, dataDir: fixture.dataDir });
    try {
      const accounts = await rows<{ email: string }>(database.db, sql`select email from accounts`);
      const jobs = await rows<{ data: { what: string; sealed: string } }>(
        database.db,
        sql.raw(`select data from ${JOBS_SCHEMA}.job where name = 'mail.send'`),
      );
      const sealer = createSealer(loadMasterKey(MASTER_KEY, fixture.dataDir));
      const mailed = new Set(
        jobs
          .filter((j) => j.data.what === 'verification')
          .map((j) => (JSON.parse(sealer.open(j.data.sealed)) as { to: string }).to),
      );
      expect(accounts.length, `the sign-ups' answers: ${JSON.stringify(signups)}`).toBeGreaterThan(0);
      expect(accounts.map((a) => a.email).filter((e) => !mailed.has(e))).toEqual([]);
    } finally {
      await database.close();
    }
  }, 600_000);
});

/**
 * Sends are not held back by other database work (issue 19). Under churn, a send waited for a
 * pooled connection behind resync queries; on PostgreSQL the hot statements now run on a pool
 * of their own (platform/db/index.ts). These tests hold or flood the main pool and check, by
 * counts and order rather than time, that a send still gets through and is delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, type Harness, startHarness, type TestSocket } from '../../../test/harness.js';
import { makeWorld, type World } from '../../../test/messaging/world.js';
import type { Caller } from '../../platform/auth.js';
import { sendMessage } from './actions.js';

let h: Harness;
let w: World;

beforeAll(async () => {
  // The hand-off to push notifications (a job enqueued after the reply, on the main pool) is
  // not the send, nor is the activity inbox's recording (after the commit, beside that
  // hand-off, on the main pool), nor are the job workers' polls (pg-boss's fetch, every second
  // or so, on the main pool): all off here, so "waited on the main pool" means the send itself did.
  h = await startHarness({ notifications: false, jobWorkers: false, inbox: false });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  await w.closeSockets();
  await h.close();
});

describe('sends beside other database work', () => {
  it.skipIf(backend !== 'postgres')(
    'a send is stored and delivered while every connection of the main pool is held',
    async () => {
      const d = h.database.driver;
      if (d.kind !== 'postgres') throw new Error('unreachable');
      expect(d.hotPool).not.toBe(d.pool);
      const cid = await w.channel('alice', 'group', 'held-pool', ['bob']);
      const bob = await w.socket('bob');
      const appCtx = await h.server.svc.apps.byKey(w.app.apiKey);
      if (!appCtx) throw new Error('no app');
      const alice: Caller = { kind: 'user', app: appCtx, userId: 'alice' };
      await sendMessage(h.server.svc, alice, cid, { text: 'warm up' });

      // Every main connection busy (resyncs, history pages, anything), none left to check out.
      const held = await Promise.all(Array.from({ length: d.pool.options.max }, () => d.pool.connect()));
      try {
        expect(d.pool.idleCount).toBe(0);
        let waitedOnMain = false;
        const sent = sendMessage(h.server.svc, alice, cid, { text: 'through the hot pool' });
        // A send that queued for a main connection would wait here for good: say so at once.
        const watch = (async () => {
          for (let settled = false; !settled; ) {
            if (d.pool.waitingCount > 0) waitedOnMain = true;
            settled = await Promise.race([
              sent.then(() => true),
              new Promise<false>((r) => setImmediate(() => r(false))),
            ]);
            if (waitedOnMain) return;
          }
        })();
        await watch;
        expect(waitedOnMain).toBe(false);
        const message = await sent;
        expect(message.seq).toBe(2);
        // Delivered too: publishing needs no connection of the main pool.
        const ev = await bob.waitFor((f) => f.type === 'message.new' && f.message.id === message.id);
        expect(ev.seq).toBe(2);
      } finally {
        for (const c of held) c.release();
      }
      expect(await w.lastSeq(cid)).toBe(2);
    },
  );

  it('a flood of resyncs does not hold a send back until the replays are done', async () => {
    const cid = await w.channel('alice', 'group', 'flood', ['bob']);
    // 300 logged events to replay, sent in bursts (group commit keeps this quick).
    for (let i = 0; i < 300; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, k) => w.send('alice', cid, `history ${i + k}`)));
    const watchers: TestSocket[] = [];
    for (let i = 0; i < 24; i++) watchers.push(await w.socket('bob'));
    const sender = await w.socket('alice');

    // Each socket resyncs the channel from the start (one watch each: concurrent watches of one
    // channel on one socket are a different question), and then alice sends.
    const order: string[] = [];
    const watches = watchers.map((s, i) =>
      s.request('channel.watch', { cid, since: 0 }).then((r) => {
        expect(r.ok).toBe(true);
        order.push(`watch ${i}`);
      }),
    );
    const send = sender.request('message.send', { cid, message: { text: 'not behind the replays' } }).then((r) => {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      order.push('send');
      return r.message;
    });
    const [message] = await Promise.all([send, ...watches]);
    expect(order).toHaveLength(25);
    // On PostgreSQL the send was answered before half of the replays were done: it never waits
    // for their connections. PGlite runs every statement on this thread, one at a time, and
    // the replays' JSON with them, so there everything finishes together and only what was
    // stored and delivered is checked.
    if (backend === 'postgres') expect(order.indexOf('send'), order.join(', ')).toBeLessThan(12);
    expect(message.seq).toBe(301);
    // And each watcher got every replayed event once, with the new message after them.
    for (const s of watchers) {
      const seqs = s
        .events('message.new')
        .filter((f) => f.cid === cid)
        .map((f) => f.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toContain(301);
      for (let q = 1; q <= 300; q++) expect(seqs).toContain(q);
    }
  });

  it('/metrics tells where sends spent their time, the pools and the event loop', async () => {
    const cid = await w.channel('alice', 'group', 'metrics', ['bob']);
    const before = await h.app.inject({ method: 'GET', url: '/metrics' });
    const count = (text: string, stage: string) =>
      Number(
        new RegExp(`^parley_send_stage_seconds_count\\{[^}]*stage="${stage}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
      );
    await Promise.all([1, 2, 3].map((i) => w.send('alice', cid, `counted ${i}`)));
    const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    // Each send is timed through every stage: waiting, the two statements, in all.
    for (const stage of ['queued', 'total']) expect(count(text, stage) - count(before.body, stage)).toBe(3);
    for (const stage of ['access_wait', 'access', 'write_wait', 'write']) {
      const batches = count(text, stage) - count(before.body, stage);
      expect(batches).toBeGreaterThanOrEqual(1);
      expect(batches).toBeLessThanOrEqual(3);
    }
    expect(text).toMatch(/^parley_event_loop_utilization(\{[^}]*\})? [0-9.e-]+$/m);
    if (backend === 'postgres') {
      // Sends checked out hot connections only; the REST calls' own reads used the main pool.
      expect(text).toMatch(/^parley_db_pool_wait_seconds_count\{[^}]*pool="hot"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^parley_db_pool_wait_seconds_count\{[^}]*pool="main"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^parley_db_pool_connections\{[^}]*pool="hot"[^}]*state="total"[^}]*\} [1-4]$/m);
    }
  });
});

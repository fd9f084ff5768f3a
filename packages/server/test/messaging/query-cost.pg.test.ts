/**
 * The cost of the spine, in SQL statements: one plain send over REST and over WS, measured
 * with the database's statement counter after the caches (app by key, known users) are warm.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityTracker } from '../../src/features/analytics/usage.js';
import { inboxSettled } from '../../src/features/inbox/record.js';
import { rows } from '../../src/platform/db/index.js';
import { type Harness, QUIET, startHarness, type TestSocket } from '../harness.js';
import { makeWorld, type World } from './world.js';

let h: Harness;
let w: World;
let cid: string;
let other: string;

beforeAll(async () => {
  // The server's background work off (QUIET: the hand-off to push notifications, the search
  // index's merge every second, usage samples), so only the action itself is counted. So are the
  // job workers: the recurring sweeps they run after a start (exports, usage samples, space
  // occupants) landed in every run of a count on a loaded CI machine.
  h = await startHarness({ ...QUIET, jobWorkers: false });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  cid = await w.channel('alice', 'group', 'cost', ['bob']);
  other = await w.channel('alice', 'group', 'cost-2', ['bob']);
});
/**
 * Worlds whose sockets stay open until the file ends: a socket closed mid-file makes its user go
 * offline one grace period later (`presenceGraceMs`), and that offline's writes (last_active_at,
 * the office's look for spaces to leave) landed in a later test's count on a loaded machine.
 */
const open: World[] = [];
async function world(): Promise<World> {
  const v = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  open.push(v);
  return v;
}

afterAll(async () => {
  for (const v of open) await v.closeSockets();
  await w.closeSockets();
  await h.close();
});

/**
 * A plain send (no parent, quote or @channel) with warm caches goes through the group-commit
 * batcher (features/messages/send-batch.ts) as a batch of one, in ONE statement: lock the
 * batch's channel rows in order, check that the channel, membership and user rows the send was
 * checked against (cached by the node from the author's last send there) are still the stored
 * ones and that its id is free, bump last_seq, insert the messages, their log rows and mention
 * flags (a single statement commits by itself: no BEGIN/COMMIT).
 * Authentication costs nothing: the app is cached by key and the user is known. The count is
 * the same on PGlite and PostgreSQL.
 */
const PLAIN_SEND = () => 1;

/**
 * Statements issued while `fn` runs, the fewest of three runs. Nothing else runs meanwhile (no
 * sockets are connecting), but the per-app caches (app by key, hooks, moderation settings) are
 * refreshed every 30 s: on a slow machine one refresh can fall inside a run, and that is not the
 * send's cost.
 */
async function cost(fn: () => Promise<unknown>): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    await h.server.svc.activity.settled();
    await h.server.svc.sends.warmer.settled();
    const before = h.database.queryCount();
    await fn();
    least = Math.min(least, h.database.queryCount() - before);
  }
  return least;
}

/** Statements of `socket`'s first send into each of `cids`, each measured on its own: the fewest, as in `cost`. */
async function fewestFirstSends(socket: TestSocket, cids: string[]): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (const c of cids) {
    const before = h.database.queryCount();
    const r = await socket.request('message.send', { cid: c, message: { text: 'first' } });
    expect(r.ok).toBe(true);
    least = Math.min(least, h.database.queryCount() - before);
  }
  return least;
}

describe('query cost of a plain send', () => {
  it('REST POST /v1/channels/{cid}/messages', async () => {
    await w.send('alice', cid, 'warm the caches');
    const n = await cost(() => w.send('alice', cid, 'hello'));
    expect(n).toBe(PLAIN_SEND());
  });

  it('WS message.send', async () => {
    const alice = await w.socket('alice');
    // Let the connect's presence announcement finish its queries first.
    await alice.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice');
    await alice.request('message.send', { cid, message: { text: 'warm' } });
    const n = await cost(async () => {
      const r = await alice.request('message.send', { cid, message: { text: 'hello' } });
      expect(r.ok).toBe(true);
    });
    // The same one statement: the socket was authenticated once, at connect.
    expect(n).toBe(PLAIN_SEND());
  });

  it('in an app with a paused webhook endpoint: still one statement, its delivery written in it', async () => {
    const v = await world();
    const c = await v.channel('alice', 'group', 'cost-paused', ['bob']);
    // A name that does not resolve is accepted (registration checks only what the policy refuses).
    const made = await h.call({
      method: 'POST',
      url: '/v1/webhooks',
      headers: await v.app.server(),
      payload: { url: 'https://hooks.parley-test.invalid/x', events: ['message.new'] },
    });
    expect(made.status).toBe(201);
    const id = made.body.webhook.id as string;
    const paused = await h.call({
      method: 'PATCH',
      url: `/v1/webhooks/${id}`,
      headers: await v.app.server(),
      payload: { active: false },
    });
    expect(paused.body.webhook.active).toBe(false);
    await v.send('alice', c, 'warm the caches');
    expect(await cost(() => v.send('alice', c, 'kept for the endpoint'))).toBe(PLAIN_SEND());
    // Every send's delivery is kept for it: the warm one and the three counted.
    const [kept] = await rows<{ n: number }>(
      h.database.db,
      sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${id} and status = 'pending'`,
    );
    expect(kept?.n).toBe(4);
  });

  it('in an app whose assistant is on, with AI moderation off: still one statement (its check is a map lookup)', async () => {
    const v = await world();
    const c = await v.channel('alice', 'group', 'cost-assistant', ['bob']);
    // A name that does not resolve is accepted (the outbound policy checks only what it refuses).
    const set = await h.call({
      method: 'PUT',
      url: '/v1/assistant',
      headers: await v.app.server(),
      payload: { url: 'https://llm.parley-test.invalid/v1', model: 'm', enabled: true, moderation: false },
    });
    expect(set.status).toBe(200);
    await v.send('alice', c, 'warm the caches');
    expect(await cost(() => v.send('alice', c, 'not sent to any model'))).toBe(PLAIN_SEND());
  });

  it("an author's first send to a channel reads its rows first; a change to them costs one more write", async () => {
    // A world of its own, so the connect tests below count only their channels.
    const v = await world();
    const cold = [];
    for (const name of ['cost-cold-1', 'cost-cold-2', 'cost-cold-3'])
      cold.push(await v.channel('alice', 'group', name, ['bob']));
    // Bob is active today (his first sight is one more insert), but has sent to none of them.
    await v.send('bob', await v.channel('alice', 'group', 'cost-seen', ['bob']), 'seen');
    await h.server.svc.activity.settled();
    // His rows there are read, then written with: 2 statements (the fewest of three first
    // sends, as in `cost`).
    let first = Number.POSITIVE_INFINITY;
    for (const c of cold) {
      const before = h.database.queryCount();
      await v.send('bob', c, 'first');
      first = Math.min(first, h.database.queryCount() - before);
    }
    expect(first).toBe(2);
    const fresh = cold[0] as string;
    expect(await cost(() => v.send('bob', fresh, 'warm'))).toBe(PLAIN_SEND());
    // His name changes behind the node's back (another node, an import): the write finds his
    // row changed and hands it back, and the send is written by a second write, with the name.
    // The fewest of three, as in `cost`: a periodic cache refresh may fall inside one.
    let least = Number.POSITIVE_INFINITY;
    for (const name of ['Robert', 'Rob', 'Bobby']) {
      await h.database.db.execute(sql`update users set name = ${name} where app_id = ${v.app.id} and id = 'bob'`);
      await h.server.svc.activity.settled();
      const at = h.database.queryCount();
      const m = await v.send('bob', fresh, `now ${name}`);
      least = Math.min(least, h.database.queryCount() - at);
      expect(m.user.name).toBe(name);
    }
    expect(least).toBe(2);
  });

  it("a connected author's first send to a channel: one statement, their rows came with the connect", async () => {
    const v = await world();
    // Three channels Alice has sent to (their rows are known); Bob has sent to none of them.
    const cids: string[] = [];
    for (const name of ['seeded-1', 'seeded-2', 'seeded-3']) {
      const c = await v.channel('alice', 'group', name, ['bob']);
      await v.send('alice', c, 'hi');
      cids.push(c);
    }
    const bob = await v.socket('bob');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'bob');
    await h.server.svc.activity.settled();
    expect(await fewestFirstSends(bob, cids)).toBe(PLAIN_SEND());
  });

  it("a connected author's first send to a channel nobody sent to on this node: one statement, its row read after the connect", async () => {
    const v = await world();
    const cids: string[] = [];
    for (const name of ['ahead-1', 'ahead-2', 'ahead-3']) cids.push(await v.channel('alice', 'group', name, ['bob']));
    const kept = () => cids.filter((c) => h.server.svc.sends.cache.hasChannel(v.app.id, c)).length;
    expect(kept()).toBe(0);
    // The app-by-key cache lives 30 s: read it anew just before the count, or on a slow machine
    // its expiry falls inside it (one more statement, not the connect's).
    expect((await v.rest('alice', 'GET', '/v1/me')).status).toBe(200);
    await h.server.svc.activity.settled();
    const at = h.database.queryCount();
    const bob = await v.socket('bob');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'bob');
    await h.server.svc.sends.warmer.settled();
    await h.server.svc.activity.settled();
    // The opening read, the seqs of the channels new to this node (where its subscriptions
    // start), his first sight of the day, ONE read of the three channels' rows, and the app's
    // flag rules (the first connect of this new app on this node; later ones read none).
    expect(h.database.queryCount() - at).toBe(5);
    expect(kept()).toBe(3);
    expect(await fewestFirstSends(bob, cids)).toBe(PLAIN_SEND());
    // Another socket of his reads nothing ahead: the node keeps those rows now.
    const again = h.database.queryCount();
    await v.socket('bob');
    await h.server.svc.sends.warmer.settled();
    expect(h.database.queryCount() - again).toBe(1);
  });
});

/**
 * A resync, `channel.watch {cid, since}` of a channel the socket is a member of: ONE statement,
 * the batched watch read (features/events/watch-batch.ts), which reads the channel, the
 * membership, the user row and the missed events together; the replay is served from it. Watches
 * that arrive together share that statement.
 */
describe('query cost of a resync', () => {
  it('WS channel.watch {since} with missed events: one statement', async () => {
    // Bob was away while three messages were sent: his new socket replays them.
    const from = await w.lastSeq(cid);
    for (let i = 0; i < 3; i++) await w.send('alice', cid, `missed ${i}`);
    const bob = await w.socket('bob');
    await bob.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'bob');
    const n = await cost(async () => {
      const r = await bob.request('channel.watch', { cid, since: from });
      expect(r.ok).toBe(true);
      expect(r.channel.last_seq).toBe(from + 3);
    });
    expect(n).toBe(1);
    // Each missed event came once, in order, though the same range was asked three times.
    const seqs = bob.frames.filter((f) => f.type === 'message.new' && f.cid === cid).map((f) => f.seq);
    expect(seqs).toEqual([from + 1, from + 2, from + 3]);
  });

  it('watches read together: one statement for several channels', async () => {
    await w.send('alice', other, 'one event to read');
    const at = [await w.lastSeq(cid), await w.lastSeq(other)];
    let found: Awaited<ReturnType<typeof h.server.svc.watches.add>>[] = [];
    const n = await cost(async () => {
      found = await Promise.all(
        [cid, other].map((c, i) =>
          h.server.svc.watches.add({
            appId: w.app.id,
            cid: c,
            userId: 'bob',
            after: (at[i] as number) - 1,
            upTo: null,
          }),
        ),
      );
    });
    expect(n).toBe(1);
    expect(found.map((f) => f?.channel.cid)).toEqual([cid, other]);
    expect(found.map((f) => f?.member?.userId)).toEqual(['bob', 'bob']);
    expect(found.map((f) => f?.log?.rows.map((r) => r.seq))).toEqual([[at[0]], [at[1]]]);
    // Scoped by app: the same cid asked for in another app is no channel; a non-member reads no membership.
    const elsewhere = await h.createApp('cost-elsewhere');
    const [foreign, stranger] = await Promise.all([
      h.server.svc.watches.add({ appId: elsewhere.id, cid, userId: 'bob', after: 0, upTo: null }),
      h.server.svc.watches.add({ appId: w.app.id, cid, userId: 'mallory', after: 0, upTo: null }),
    ]);
    expect(foreign).toBeNull();
    expect(stranger?.member).toBeNull();
    expect(stranger?.user).toBeNull();
  });
});

/**
 * A connect of a known user, seen today: ONE statement, the opening read (user row and each
 * membership's last seq; features/channels/openings.ts). Connects that arrive together share it,
 * and so do first sights of the day (the activity rows of one turn are one insert).
 */
describe('query cost of a connect', () => {
  it('a connect of a known user: one statement', async () => {
    await w.socket('alice'); // seen today on this node
    const seq = await w.lastSeq(cid);
    const n = await cost(async () => {
      const s = await w.socket('alice');
      expect(s.frames.find((f) => f.type === 'hello')?.channels[cid]).toBe(seq);
    });
    expect(n).toBe(1);
  });

  it('openings read together: one statement for several users, scoped by app', async () => {
    const elsewhere = await h.createApp('cost-openings-elsewhere');
    let found: Awaited<ReturnType<typeof h.server.svc.openings.add>>[] = [];
    const n = await cost(async () => {
      found = await Promise.all([
        h.server.svc.openings.add({ appId: w.app.id, userId: 'alice' }),
        h.server.svc.openings.add({ appId: w.app.id, userId: 'bob' }),
        // Another app: the same user id is nobody there.
        h.server.svc.openings.add({ appId: elsewhere.id, userId: 'alice' }),
        h.server.svc.openings.add({ appId: w.app.id, userId: 'mallory' }),
      ]);
    });
    expect(n).toBe(1);
    expect(found.map((f) => f?.user.id ?? null)).toEqual(['alice', 'bob', null, null]);
    const seqs = [await w.lastSeq(cid), await w.lastSeq(other)];
    for (const f of found.slice(0, 2))
      expect(Object.fromEntries((f?.channels ?? []).map((c) => [c.cid, c.lastSeq]))).toEqual({
        [cid]: seqs[0],
        [other]: seqs[1],
      });
  });

  it("channels' seqs for catch-ups, read together: one statement for several channels, scoped by app", async () => {
    // The first connect to a channel on a node reads its seq again after subscribing; in a
    // reconnect storm that is every channel's first connect, one turn's in one statement.
    const elsewhere = await h.createApp('cost-seqs-elsewhere');
    let found: (number | null)[] = [];
    const n = await cost(async () => {
      found = await Promise.all([
        h.server.svc.channelSeqs.add({ appId: w.app.id, cid }),
        h.server.svc.channelSeqs.add({ appId: w.app.id, cid: other }),
        // Another app: the same cid is no channel there.
        h.server.svc.channelSeqs.add({ appId: elsewhere.id, cid }),
        h.server.svc.channelSeqs.add({ appId: w.app.id, cid: 'group:none-such' }),
      ]);
    });
    expect(n).toBe(1);
    expect(found).toEqual([await w.lastSeq(cid), await w.lastSeq(other), null, null]);
  });

  it('first sights of the day on this node, together: their activity rows are one insert', async () => {
    const users = ['carol', 'dave', 'erin'];
    // A tracker of its own (this node's has seen other users today), new for each of cost()'s
    // runs: the first sights are first sights every time.
    let activity = new ActivityTracker(() => h.server.svc);
    const n = await cost(async () => {
      activity = new ActivityTracker(() => h.server.svc);
      await Promise.all(users.map((u) => activity.note(w.app.id, u)));
    });
    expect(n).toBe(1);
    const noted = await rows<{ user_id: string }>(
      h.server.svc.db,
      sql`select user_id from user_activity where app_id = ${w.app.id} and user_id in ('carol', 'dave', 'erin') order by user_id`,
    );
    expect(noted.map((r) => r.user_id)).toEqual(users);
    // Noted already today on this node: no statement at all.
    const again = h.database.queryCount();
    await Promise.all(users.map((u) => activity.note(w.app.id, u)));
    expect(h.database.queryCount()).toBe(again);
  });

  it("sockets' first sights (not awaited), one per turn in a storm, linger into a few inserts", async () => {
    // A connect storm's sockets each open in a turn of their own: eager, that was a statement
    // for every turn or two; lazy, the rows of a burst wait for each other.
    const activity = new ActivityTracker(() => h.server.svc);
    await h.server.svc.activity.settled();
    const users = Array.from({ length: 40 }, (_, i) => `storm-${i}`);
    const before = h.database.queryCount();
    for (const u of users) {
      void activity.note(w.app.id, u, { lazy: true });
      await new Promise((r) => setImmediate(r));
    }
    await activity.settled();
    // The first goes at once; the rest gather behind it (a loaded machine may split them more).
    expect(h.database.queryCount() - before).toBeLessThanOrEqual(10);
    const noted = await rows<{ n: number }>(
      h.server.svc.db,
      sql`select count(*)::int as n from user_activity where app_id = ${w.app.id} and user_id like 'storm-%'`,
    );
    expect(noted[0]?.n).toBe(users.length);
  });
});

/**
 * The inbox on: only a send that may put an item in an inbox (a mention, @here, @channel, a
 * thread reply, a DM) is derived after its commit. A plain message in a group channel is the
 * one statement of its send and nothing after it: deriving every send read its message back
 * (through whatever index the planner took), its flags and its outbox row, and cost PostgreSQL
 * more than the send itself (bench/pg-cost.ts, issue 57).
 */
describe('query cost of a plain send with the inbox on', () => {
  let hi: Harness;
  let v: World;
  beforeAll(async () => {
    hi = await startHarness({ ...QUIET, inbox: true, jobWorkers: false });
    v = await makeWorld(hi, [
      { id: 'alice', username: 'alice' },
      { id: 'bob', username: 'bob' },
    ]);
  });
  afterAll(async () => {
    await v.closeSockets();
    await hi.close();
  });

  it('costs the inbox no statement; a mention in the same channel is derived into an item', async () => {
    const c = await v.channel('alice', 'group', 'inbox-cost', ['bob']);
    await v.send('alice', c, 'warm the caches');
    await inboxSettled(hi.server.svc);
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      await hi.server.svc.activity.settled();
      const before = hi.database.queryCount();
      await v.send('alice', c, `plain ${i}`);
      await inboxSettled(hi.server.svc);
      least = Math.min(least, hi.database.queryCount() - before);
    }
    expect(least).toBe(PLAIN_SEND());
    // No outbox row was written for them, and none is left for the mention's.
    const mention = await v.send('alice', c, 'hey @bob');
    await inboxSettled(hi.server.svc);
    const items = await v.rest('bob', 'GET', '/v1/inbox');
    expect(items.body.items.map((x: { message_id: string; kind: string }) => [x.message_id, x.kind])).toEqual([
      [mention.id, 'mention'],
    ]);
    const [left] = await rows<{ n: number }>(
      hi.database.db,
      sql`select count(*)::int as n from inbox_pending where app_id = ${v.app.id}`,
    );
    expect(left?.n).toBe(0);
  });
});

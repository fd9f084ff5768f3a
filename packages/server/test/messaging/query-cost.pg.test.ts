/**
 * The cost of the spine, in SQL statements: one plain send over REST and over WS, measured
 * with the database's statement counter after the caches (app by key, known users) are warm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { makeWorld, type World } from './world.js';

let h: Harness;
let w: World;
let cid: string;
let other: string;

beforeAll(async () => {
  // The hand-off to push notifications comes after the answer (one job insert per tick of
  // sends, then the job's own reads): off here, so only the send itself is counted.
  h = await startHarness({ notifications: false });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  cid = await w.channel('alice', 'group', 'cost', ['bob']);
  other = await w.channel('alice', 'group', 'cost-2', ['bob']);
});
afterAll(async () => {
  await w.closeSockets();
  await h.close();
});

/**
 * A plain send (no parent, quote or @channel) with warm caches goes through the group-commit
 * batcher (features/messages/send-batch.ts) as a batch of one:
 *   1. select ⟨send⟩ ⨝ channel ⟕ author's membership ⟕ author's user row, and whether the id is taken
 *      (the access check for the whole batch, one query)
 *   2. one statement: lock the batch's channel rows in order, bump last_seq, insert the messages,
 *      their log rows and mention flags (a single statement commits by itself: no BEGIN/COMMIT)
 * Authentication costs nothing: the app is cached by key and the user is known. The count is
 * the same on PGlite and PostgreSQL.
 */
const PLAIN_SEND = () => 2;

/**
 * Statements issued while `fn` runs, the fewest of three runs. Nothing else runs meanwhile (no
 * sockets are connecting), but the per-app caches (app by key, hooks, moderation settings) are
 * refreshed every 30 s: on a slow machine one refresh can fall inside a run, and that is not the
 * send's cost.
 */
async function cost(fn: () => Promise<unknown>): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const before = h.database.queryCount();
    await fn();
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
    // The same two statements: the socket was authenticated once, at connect.
    expect(n).toBe(PLAIN_SEND());
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
    const before = h.database.queryCount();
    const reads = [cid, other].map((c, i) =>
      h.server.svc.watches.read({ appId: w.app.id, cid: c, userId: 'bob', after: (at[i] as number) - 1, upTo: null }),
    );
    const found = await Promise.all(reads);
    expect(h.database.queryCount() - before).toBe(1);
    expect(found.map((f) => f?.channel.cid)).toEqual([cid, other]);
    expect(found.map((f) => f?.member?.userId)).toEqual(['bob', 'bob']);
    expect(found.map((f) => f?.log?.rows.map((r) => r.seq))).toEqual([[at[0]], [at[1]]]);
    // Scoped by app: the same cid asked for in another app is no channel; a non-member reads no membership.
    const elsewhere = await h.createApp('cost-elsewhere');
    const [foreign, stranger] = await Promise.all([
      h.server.svc.watches.read({ appId: elsewhere.id, cid, userId: 'bob', after: 0, upTo: null }),
      h.server.svc.watches.read({ appId: w.app.id, cid, userId: 'mallory', after: 0, upTo: null }),
    ]);
    expect(foreign).toBeNull();
    expect(stranger?.member).toBeNull();
    expect(stranger?.user).toBeNull();
  });
});

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

beforeAll(async () => {
  // The hand-off to push notifications comes after the answer (one job insert per tick of
  // sends, then the job's own reads): off here, so only the send itself is counted.
  h = await startHarness({ notifications: false });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  cid = await w.channel('alice', 'group', 'cost', ['bob']);
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

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
  h = await startHarness();
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  cid = await w.channel('alice', 'group', 'cost', ['bob']);
});
afterAll(async () => {
  await w.closeSockets();
  await h.close();
});

/**
 * A plain send (no mention, no parent, no quote) with warm caches:
 *   1. select channel ⟕ caller's membership ⟕ caller's user row (access check, one query)
 *   -  begin                                   (PostgreSQL only, see below)
 *   2. update channels set last_seq = last_seq + 1, last_message_at … returning (takes the seq, locks the row)
 *   3. with m as (insert into messages … on conflict do nothing returning id)
 *      insert into channel_events … select … from m   (message and log row, one statement;
 *      the frame was serialized once, before it)
 *   -  commit                                  (PostgreSQL only)
 * Authentication costs nothing: the app is cached by key and the user is known. Drizzle's
 * node-postgres driver sends BEGIN and COMMIT as statements of their own (and counts them);
 * on PGlite it runs the transaction through the client, so they are not counted.
 */
const PLAIN_SEND = () => (h.database.kind === 'postgres' ? 5 : 3);

/** Statements issued while `fn` runs. Nothing else runs meanwhile (no sockets are connecting). */
async function cost(fn: () => Promise<unknown>): Promise<number> {
  const before = h.database.queryCount();
  await fn();
  return h.database.queryCount() - before;
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
    // The same three (five) statements: the socket was authenticated once, at connect.
    expect(n).toBe(PLAIN_SEND());
  });
});

/**
 * Group commit (features/messages/send-batch.ts): sends that arrive together are checked
 * with one read and written with one statement, yet each is answered on its own — a send
 * that fails its checks fails alone, nothing of it is written, and its neighbours in the
 * batch (other channels, other tenants) are stored with gap-free seqs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryNetwork } from '../../src/realtime/broker.js';
import { type Harness, QUIET, startHarness, TestSocket } from '../harness.js';
import { allMessages, expectError, expectWsError, makeWorld, newId, type World } from './world.js';

let h: Harness;
let w: World;
let other: World;

beforeAll(async () => {
  h = await startHarness(QUIET);
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
  other = await makeWorld(h, [{ id: 'mallory' }]);
});
afterAll(async () => {
  await w.closeSockets();
  await other.closeSockets();
  await h.close();
});

const seqs = (ms: any[]) => ms.map((m) => m.seq);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('group commit', () => {
  it('a burst over channels and tenants: each send answered on its own, bad ones write nothing', async () => {
    const open = await w.channel('alice', 'group', 'burst-open', ['bob']);
    const secret = await w.channel('alice', 'group', 'burst-secret', ['carol']);
    const news = await w.channel('alice', 'announcement', 'burst-news', ['bob']);
    const theirs = await other.channel('mallory', 'group', 'burst-theirs', []);

    const before = h.database.queryCount();
    const calls: Promise<{ who: string; status: number; body: any }>[] = [];
    const send = (world: World, who: string, cid: string, text: string, tag = who) =>
      calls.push(world.rest(who, 'POST', `/v1/channels/${cid}/messages`, { text }).then((r) => ({ who: tag, ...r })));
    for (let i = 0; i < 12; i++) {
      send(w, i % 2 ? 'bob' : 'alice', open, i % 3 === 0 ? `hey @bob ${i}` : `open ${i}`);
      send(other, 'mallory', theirs, `theirs ${i}`);
    }
    send(w, 'bob', secret, 'not a member of this group', 'bob→secret');
    send(w, 'bob', news, 'only staff post here', 'bob→news');
    send(w, 'alice', 'group:nope', 'no such channel', 'alice→nope');
    send(other, 'mallory', open, 'another tenant’s channel', 'mallory→open');
    send(w, 'alice', open, 'nul \u0000 inside', 'alice→nul');
    const answers = await Promise.all(calls);
    const statements = h.database.queryCount() - before;

    const byTag = (tag: string) => answers.find((a) => a.who === tag) as { status: number; body: any };
    expectError(byTag('bob→secret'), 404, 'NOT_FOUND');
    expectError(byTag('bob→news'), 403, 'FORBIDDEN');
    expectError(byTag('alice→nope'), 404, 'NOT_FOUND');
    expectError(byTag('mallory→open'), 404, 'NOT_FOUND');
    expectError(byTag('alice→nul'), 400, 'VALIDATION_ERROR');
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(24);

    // Everything good is stored once, with gap-free seqs; nothing of the bad sends is.
    const openMsgs = await allMessages(w, 'alice', open);
    expect(seqs(openMsgs)).toEqual(range(12));
    expect(openMsgs.map((m) => m.text).sort()).toEqual(
      range(12)
        .map((n) => n - 1)
        .map((i) => (i % 3 === 0 ? `hey @bob ${i}` : `open ${i}`))
        .sort(),
    );
    expect(seqs(await allMessages(other, 'mallory', theirs))).toEqual(range(12));
    expect(await allMessages(w, 'alice', secret)).toEqual([]);
    expect(await allMessages(w, 'alice', news)).toEqual([]);
    expect(await w.lastSeq(secret)).toBe(0);
    expect(await w.lastSeq(news)).toBe(0);
    expect(await w.lastSeq(open)).toBe(12);

    // Each answer is the stored message; mentions were flagged in the same statement.
    const storedById = new Map(
      [...openMsgs, ...(await allMessages(other, 'mallory', theirs))].map((m) => [m.id, m] as const),
    );
    for (const a of ok)
      expect(storedById.get(a.body.message.id)).toMatchObject({ seq: a.body.message.seq, text: a.body.message.text });
    const mentions = openMsgs.filter((m) => m.text.startsWith('hey @bob'));
    expect(mentions.map((m) => m.mentioned_users)).toEqual(mentions.map(() => ['bob']));
    const me = await w.rest('bob', 'GET', '/v1/me');
    // Alice's @bob messages (i = 0, 6) notify bob; bob's own (i = 3, 9) do not.
    expect(me.body.unread.mentions).toBe(2);

    // Batched: far fewer statements than the 2 per send of a lone send (26 sends here, plus
    // the @bob lookups, the error answers' lookups and the id checks).
    expect(statements).toBeLessThan(2 * calls.length);
  });

  it("one socket's pipelined sends keep their order in the channel", async () => {
    const cid = await w.channel('alice', 'group', 'pipelined', ['bob']);
    const alice = await w.socket('alice');
    const replies = await Promise.all(
      range(40).map((i) => alice.request('message.send', { cid, message: { text: `p${i}` } })),
    );
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(replies.map((r) => r.message.seq)).toEqual(range(40));
    expect(replies.map((r) => r.message.text)).toEqual(range(40).map((i) => `p${i}`));
  });

  it('the same id twice in one burst: one message, both answered with it; another user gets CONFLICT', async () => {
    const cid = await w.channel('alice', 'group', 'same-id', ['bob']);
    const id = newId();
    const [a1, a2, b] = await Promise.all([
      w.rest('alice', 'POST', `/v1/channels/${cid}/messages`, { id, text: 'once' }),
      w.rest('alice', 'POST', `/v1/channels/${cid}/messages`, { id, text: 'once' }),
      w.rest('bob', 'POST', `/v1/channels/${cid}/messages`, { id, text: 'mine?' }),
    ]);
    expect(a1.status).toBe(200);
    expect(a2.status).toBe(200);
    expect(a1.body.message).toMatchObject({ id, seq: 1, text: 'once' });
    expect(a2.body.message).toMatchObject({ id, seq: 1, text: 'once' });
    expectError(b, 409, 'CONFLICT');
    expect(seqs(await allMessages(w, 'alice', cid))).toEqual([1]);
  });

  it('a lone surrogate is a validation error over WS too, and the socket goes on', async () => {
    const cid = await w.channel('alice', 'group', 'surrogate', []);
    const alice = await w.socket('alice');
    expectWsError(
      await alice.request('message.send', { cid, message: { text: 'half \ud83d pair' } }),
      'VALIDATION_ERROR',
    );
    const r = await alice.request('message.send', { cid, message: { text: 'whole 😀 pair' } });
    expect(r.message).toMatchObject({ seq: 1, text: 'whole 😀 pair' });
  });
});

describe('group commit on two nodes', () => {
  let b: Harness;
  beforeAll(async () => {
    // A second node on the same database (its own batcher): the two race on ids and seqs.
    const network = new MemoryNetwork();
    const masterKey = randomBytes(32).toString('hex');
    await h.close();
    h = await startHarness({ masterKey }, { broker: new MemoryBroker(network) });
    b = await startHarness({ masterKey }, { broker: new MemoryBroker(network), database: h.database });
    w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  });
  afterAll(async () => {
    await w.closeSockets();
    await b.close();
  });

  it('the same ids sent to both nodes at once: one message each, gap-free seqs, live order = seq order', async () => {
    const cid = await w.channel('alice', 'group', 'two-nodes', ['bob']);
    const watcher = await TestSocket.connect(await b.listen(), w.app, 'bob');
    const ids = range(25).map(() => newId());
    const viaB = async (id: string, i: number) => {
      const r = await b.call({
        method: 'POST',
        url: `/v1/channels/${cid}/messages`,
        headers: await w.app.user('alice'),
        payload: { id, text: `m${i}` },
      });
      return r;
    };
    const answers = await Promise.all(
      ids.flatMap((id, i) => [
        w.rest('alice', 'POST', `/v1/channels/${cid}/messages`, { id, text: `m${i}` }),
        viaB(id, i),
      ]),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    // Both answers for an id are the same stored message.
    for (let i = 0; i < ids.length; i++) {
      const [x, y] = [answers[2 * i], answers[2 * i + 1]];
      expect(x?.body.message.seq).toBe(y?.body.message.seq);
    }
    const stored = await allMessages(w, 'alice', cid);
    expect(seqs(stored)).toEqual(range(25));
    expect(new Set(stored.map((m) => m.id))).toEqual(new Set(ids));
    await watcher.waitFor((f) => f.type === 'message.new' && f.seq === 25);
    expect(watcher.events('message.new').map((f) => f.seq)).toEqual(range(25));
    watcher.close();
  });
});

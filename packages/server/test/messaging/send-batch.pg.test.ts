/**
 * Group commit (features/messages/send-batch.ts): sends that arrive together are checked
 * with one read and written with one statement, yet each is answered on its own — a send
 * that fails its checks fails alone, nothing of it is written, and its neighbours in the
 * batch (other channels, other tenants) are stored with gap-free seqs.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessage } from '../../src/features/messages/actions.js';
import { type HotStatement, type PreparedTiming, rows } from '../../src/platform/db/index.js';
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

    // Batched: fewer statements than sends (about 12 here: a few reads and writes of rows for
    // the whole burst, each app's hook settings read once however many sends find them cold,
    // the @bob lookups, and whatever background sweep lands in the window). Before the hook
    // settings were read once per burst, 20 sends each read them (49 statements, CI saw 68).
    expect(statements).toBeLessThan(calls.length);
  });

  it('a burst over many channels is cut by channel into two batches on PostgreSQL, each channel gap-free', async () => {
    const cids: string[] = [];
    for (let i = 0; i < 40; i++) cids.push(await w.channel('alice', 'group', `spread-${i}`, ['bob']));
    const svc = h.server.svc;
    const appCtx = await svc.apps.byKey(w.app.apiKey);
    if (!appCtx) throw new Error('no app');
    const batches = async () => {
      const v = (await svc.metrics.sendBatchSize.get()).values;
      const of = (suffix: string) => v.find((x) => x.metricName === `parley_send_batch_size_${suffix}`)?.value ?? 0;
      return { count: of('count'), sum: of('sum') };
    };
    const before = await batches();
    // Two sends per channel, all in one turn, as the bench's senders make them.
    const sent = await Promise.all(
      ['alice', 'bob'].flatMap((who) =>
        cids.map((cid, i) =>
          sendMessage(svc, { kind: 'user', app: appCtx, userId: who }, cid, { text: `${who} ${i}` }),
        ),
      ),
    );
    const after = await batches();
    expect(after.sum - before.sum).toBe(80);
    // PGlite runs one statement at a time: one batch. PostgreSQL: two, each with 20 channels.
    expect(after.count - before.count).toBe(h.database.kind === 'pglite' ? 1 : 2);
    for (const [i, cid] of cids.entries()) {
      const ms = await allMessages(w, 'alice', cid);
      expect(ms.map((m) => [m.seq, m.text])).toEqual([
        [1, `alice ${i}`],
        [2, `bob ${i}`],
      ]);
    }
    expect(new Set(sent.map((m) => m.id)).size).toBe(80);
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

/**
 * The node keeps the rows each author's last send was checked against (access-cache.ts) and
 * the next send is checked against them; the write compares them with the stored rows and
 * writes only if they still match. Here the rows change straight in the database, as another
 * node or a script would change them: nothing tells this node, and the sends must still be
 * decided on the stored rows.
 */
describe('group commit: sends checked against cached rows', () => {
  const exec = (q: ReturnType<typeof sql>) => h.database.db.execute(q);
  const app = () => w.app.id;
  const warm = async (cid: string) => {
    await w.send('bob', cid, 'warm');
    return w.lastSeq(cid);
  };

  it('a freeze made elsewhere refuses the next send, and lifting it lets the one after through', async () => {
    const cid = await w.channel('alice', 'group', 'cached-freeze', ['bob']);
    const seq = await warm(cid);
    await exec(sql`update channels set frozen = true where app_id = ${app()} and cid = ${cid}`);
    expectError(await w.rest('bob', 'POST', `/v1/channels/${cid}/messages`, { text: 'frozen?' }), 403, 'FORBIDDEN');
    expect(await w.lastSeq(cid)).toBe(seq);
    // The refusal was decided on the stored row; now the cached row says frozen, and the
    // thaw is found by reading again, not by trusting it.
    await exec(sql`update channels set frozen = false where app_id = ${app()} and cid = ${cid}`);
    expect((await w.send('bob', cid, 'thawed')).seq).toBe(seq + 1);
  });

  it('an app-wide ban and its lifting, made elsewhere, are seen by the next send', async () => {
    const cid = await w.channel('alice', 'group', 'cached-ban', ['bob']);
    const seq = await warm(cid);
    await exec(sql`update users set banned_at = now() where app_id = ${app()} and id = 'bob'`);
    expectError(await w.rest('bob', 'POST', `/v1/channels/${cid}/messages`, { text: 'banned?' }), 403, 'BANNED');
    await exec(sql`update users set banned_at = null where app_id = ${app()} and id = 'bob'`);
    expect((await w.send('bob', cid, 'back')).seq).toBe(seq + 1);
  });

  it('a membership or a channel removed elsewhere: the send is refused and writes nothing', async () => {
    const left = await w.channel('alice', 'group', 'cached-left', ['bob']);
    const gone = await w.channel('alice', 'group', 'cached-gone', ['bob']);
    const seq = await warm(left);
    await warm(gone);
    await exec(sql`delete from members where app_id = ${app()} and cid = ${left} and user_id = 'bob'`);
    await exec(sql`delete from channels where app_id = ${app()} and cid = ${gone}`);
    expectError(await w.rest('bob', 'POST', `/v1/channels/${left}/messages`, { text: 'still in?' }), 404, 'NOT_FOUND');
    expectError(
      await w.rest('bob', 'POST', `/v1/channels/${gone}/messages`, { text: 'still there?' }),
      404,
      'NOT_FOUND',
    );
    expect(await w.lastSeq(left)).toBe(seq);
    const written = await rows<{ text: string }>(
      h.database.db,
      sql`select text from messages where app_id = ${app()} and cid in (${left}, ${gone}) order by seq`,
    );
    expect(written.map((m) => m.text)).toEqual(['warm', 'warm']);
  });

  it('what only the message shows (the author’s name, a role) changed elsewhere: written, with the stored rows', async () => {
    const cid = await w.channel('alice', 'announcement', 'cached-role', ['bob']);
    // Bob may not post in an announcement channel until he is made a moderator, elsewhere.
    expectError(await w.rest('bob', 'POST', `/v1/channels/${cid}/messages`, { text: 'me?' }), 403, 'FORBIDDEN');
    await exec(sql`update members set role = 'moderator' where app_id = ${app()} and cid = ${cid} and user_id = 'bob'`);
    await exec(sql`update users set name = 'Bobby' where app_id = ${app()} and id = 'bob'`);
    const m = await w.send('bob', cid, 'now I may');
    expect(m).toMatchObject({ seq: 1, user: { id: 'bob', name: 'Bobby' } });
  });

  it('rows that change before every write: after three rounds the send goes the one-send way, stored once', async () => {
    const cid = await w.channel('alice', 'group', 'cached-churning', ['bob']);
    const seq = await warm(cid);
    // Before each write of the batch, Bob's row changes (another node renaming him as fast as
    // it can): every write finds it stale and hands it back.
    const db = h.database;
    const original = db.prepared.bind(db);
    let writes = 0;
    db.prepared = (async (stmt: HotStatement, values: unknown[], timing?: PreparedTiming) => {
      if (stmt.name === 'parley_send_batch') {
        writes++;
        await db.db.execute(sql`update users set name = ${`Bob ${writes}`} where app_id = ${app()} and id = 'bob'`);
      }
      return original(stmt, values, timing);
    }) as typeof db.prepared;
    try {
      const m = await w.send('bob', cid, 'through the churn');
      expect(writes).toBe(3);
      // The one-send path read the row itself, in its own transaction.
      expect(m).toMatchObject({ seq: seq + 1, text: 'through the churn', user: { name: 'Bob 3' } });
    } finally {
      db.prepared = original;
    }
    const stored = await allMessages(w, 'alice', cid);
    expect(stored.filter((x) => x.text === 'through the churn')).toHaveLength(1);
    expect(await w.lastSeq(cid)).toBe(seq + 1);
  });

  it('sends with kept rows are written and answered while the same batch waits for a read, each channel in order', async () => {
    const kept = await w.channel('alice', 'group', 'kept-beside', ['bob']);
    const seq = await warm(kept); // Bob's rows there are kept now; Alice's role there is not.
    const cold = await w.channel('alice', 'group', 'cold-beside', ['bob']); // never sent to
    const svc = h.server.svc;
    const appCtx = await svc.apps.byKey(w.app.apiKey);
    if (!appCtx) throw new Error('no app');
    const as = (userId: string) => ({ kind: 'user' as const, app: appCtx, userId });
    const batches = async () =>
      (await svc.metrics.sendBatchSize.get()).values.find((x) => x.metricName === 'parley_send_batch_size_count')
        ?.value ?? 0;
    // The read of the rows this node does not keep is held until the kept sends are answered.
    const db = h.database;
    const original = db.prepared.bind(db);
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const read: number[] = [];
    db.prepared = (async (stmt: HotStatement, values: unknown[], timing?: PreparedTiming) => {
      if (stmt.name === 'parley_send_access') {
        read.push((JSON.parse(values[0] as string) as unknown[]).length);
        await gate;
      }
      return original(stmt, values, timing);
    }) as typeof db.prepared;
    try {
      const before = await batches();
      // One turn, one batch: Alice first (her role in `kept` must be read), then Bob twice
      // (kept rows), then Bob into a channel nobody sent to yet (its row must be read).
      const alice = sendMessage(svc, as('alice'), kept, { text: 'alice, read first' });
      const bob = [1, 2].map((i) => sendMessage(svc, as('bob'), kept, { text: `bob ${i}` }));
      const bobCold = sendMessage(svc, as('bob'), cold, { text: 'bob, read first' });
      let readOnesDone = false;
      void Promise.all([alice, bobCold]).then(() => {
        readOnesDone = true;
      });
      // Answered while the read is held (before this change they waited for it: this hung).
      const answered = await Promise.all(bob);
      expect(answered.map((m) => [m.seq, m.text])).toEqual([
        [seq + 1, 'bob 1'],
        [seq + 2, 'bob 2'],
      ]);
      expect(read).toEqual([2]);
      expect(readOnesDone).toBe(false);
      open();
      expect([(await alice).seq, (await bobCold).seq]).toEqual([seq + 3, 1]);
      expect((await batches()) - before).toBe(1);
    } finally {
      db.prepared = original;
      open();
    }
    // Stored in the order they were written, gap-free; Bob's in the order he sent them.
    expect((await allMessages(w, 'alice', kept)).map((m) => [m.seq, m.text])).toEqual([
      ...range(seq).map((n) => [n, 'warm']),
      [seq + 1, 'bob 1'],
      [seq + 2, 'bob 2'],
      [seq + 3, 'alice, read first'],
    ]);
    expect((await allMessages(w, 'alice', cold)).map((m) => m.text)).toEqual(['bob, read first']);
  });

  it('a burst from many authors while their rows change under it: every send answered once, in order, gap-free', async () => {
    const people = range(6).map((i) => `p${i}`);
    const crowd = await makeWorld(
      h,
      people.map((id) => ({ id })),
    );
    const cid = await crowd.channel('p1', 'group', 'cached-churn', people.slice(1));
    for (const p of people) await crowd.send(p, cid, `hello from ${p}`);
    const sends: Promise<any>[] = [];
    for (let round = 0; round < 5; round++) {
      for (const p of people)
        sends.push(crowd.rest(p, 'POST', `/v1/channels/${cid}/messages`, { text: `${p} ${round}` }));
      // Renames (they change the user rows the sends were checked against) land among them.
      await exec(sql`update users set name = name || '.' where app_id = ${crowd.app.id}`);
    }
    const answers = await Promise.all(sends);
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    const stored = await allMessages(crowd, 'p1', cid);
    expect(seqs(stored)).toEqual(range(people.length * 6));
    expect(new Set(stored.map((m) => m.id)).size).toBe(stored.length);
    // Each author's messages are stored in the order they were sent.
    for (const p of people)
      expect(stored.filter((m) => m.user.id === p).map((m) => m.text)).toEqual([
        `hello from ${p}`,
        ...range(5).map((r) => `${p} ${r - 1}`),
      ]);
    await crowd.closeSockets();
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

/**
 * Resync: the event log replayed onto an old snapshot gives the fresh snapshot, for every
 * logged event type; `channel.watch {since}` replays exactly what was missed, then goes live;
 * past `maxReplay` the answer is `reload`.
 */
import { LOGGED_EVENT_TYPES } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness, type TestSocket } from '../harness.js';
import { applyEvents, type ChannelState, stateFrom, view } from './apply-event.js';
import { allEvents, allMessages, allReplies, expectError, expectWsError, makeWorld, type World } from './world.js';

let h: Harness;
let w: World;

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [
    { id: 'alice' },
    { id: 'bob' },
    { id: 'carol' },
    { id: 'dave' },
    { id: 'eve' },
    { id: 'frank' },
  ]);
});
afterEach(async () => {
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
});

/** A snapshot as `user` sees it: the channel, every message and every thread's replies. */
async function snapshot(user: string, cid: string): Promise<ChannelState> {
  const ch = await w.rest(user, 'GET', `/v1/channels/${cid}`);
  expect(ch.status).toBe(200);
  const top = await allMessages(w, user, cid);
  const byId = new Map(top.map((m) => [m.id, m]));
  for (const m of top)
    if (!m.parent_id && m.reply_count > 0) for (const r of await allReplies(w, user, m.id)) byId.set(r.id, r);
  return stateFrom(ch.body, [...byId.values()]);
}

/** Seqs of logged events for `cid` on a socket, in arrival order. */
const seqsOn = (s: TestSocket, cid: string) =>
  s
    .events()
    .filter((f) => f.cid === cid && typeof f.seq === 'number')
    .map((f) => f.seq as number);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('resync by replaying the event log', () => {
  it('an old snapshot plus every logged event type equals a fresh snapshot', async () => {
    const cid = await w.channel('alice', 'group', 'sync', ['bob', 'carol']);
    const post = (u: string, body: Record<string, unknown> | string) => w.send(u, cid, body);
    const react = (u: string, id: string, type: string) =>
      w.rest(u, 'POST', `/v1/messages/${id}/reactions`, { type }).then((r) => expect(r.status).toBe(200));
    const unreact = (u: string, id: string, type: string) =>
      w.rest(u, 'DELETE', `/v1/messages/${id}/reactions/${type}`).then((r) => expect(r.status).toBe(200));
    const ok = (r: { status: number; body: any }) => expect(r.status, JSON.stringify(r.body)).toBe(200);

    // Before the snapshot.
    const m1 = await post('alice', 'one');
    const m2 = await post('bob', 'two');
    const m3 = await post('alice', 'three, soon deleted');
    const p = await post('alice', 'a thread');
    const r0 = await post('bob', { text: 'first reply, soon deleted', parent_id: p.id });
    await react('bob', m1.id, 'like');
    await react('carol', m3.id, 'heart');
    await react('carol', m2.id, 'like');
    const poll = await post('alice', { text: 'Lunch?', poll: { options: ['Pizza', 'Sushi'] } });
    ok(await w.rest('bob', 'POST', `/v1/messages/${poll.id}/poll/votes`, { option_ids: ['0'] }));

    const old = await snapshot('carol', cid);
    const since = old.channel.last_seq as number;
    // The snapshot is self-consistent: own_reactions as the server computes it equals the derived one.
    for (const [id, m] of Object.entries(old.messages))
      expect([...m.own_reactions].sort()).toEqual(view(old, 'carol').messages[id]!.own_reactions);

    // carol is away; everything below happens without her socket (she acts once from another device).
    const a1 = await post('alice', 'while you were out');
    const a2 = await post('bob', { text: 'second reply', parent_id: p.id });
    await post('bob', { text: 'reply shown in channel', parent_id: p.id, show_in_channel: true });
    await post('alice', { text: 'quoting one', quoted_message_id: m1.id });
    await post('carol', { text: 'new thread on two', parent_id: m2.id });
    ok(await w.rest('alice', 'PATCH', `/v1/messages/${m1.id}`, { text: 'one (edited) @bob' }));
    ok(await w.rest('bob', 'POST', `/v1/messages/${m2.id}/pin`));
    ok(await w.rest('alice', 'DELETE', `/v1/messages/${m3.id}`));
    ok(await w.rest('bob', 'DELETE', `/v1/messages/${r0.id}`));
    await react('alice', m2.id, 'like');
    await react('carol', m1.id, 'fire');
    await react('bob', a2.id, 'eyes');
    await unreact('bob', m1.id, 'like');
    await unreact('carol', m2.id, 'like');
    ok(await w.rest('alice', 'POST', `/v1/channels/${cid}/members`, { add: ['dave', 'eve'] }));
    ok(await w.rest('alice', 'PATCH', `/v1/channels/${cid}/members/bob`, { role: 'moderator' }));
    ok(await w.rest('alice', 'POST', `/v1/channels/${cid}/members`, { remove: ['eve'] }));
    ok(await w.rest('alice', 'PATCH', `/v1/channels/${cid}`, { topic: 'new topic' }));
    ok(await w.rest('alice', 'PATCH', `/v1/channels/${cid}`, { name: 'Renamed' }));
    await post('dave', 'hi all');
    await react('dave', a1.id, 'wave');
    ok(await w.rest('bob', 'POST', `/v1/messages/${a2.id}/pin`));
    ok(await w.rest('dave', 'POST', `/v1/messages/${poll.id}/poll/votes`, { option_ids: ['1'] }));
    ok(await w.rest('bob', 'POST', `/v1/messages/${poll.id}/poll/votes`, { option_ids: ['1'] }));
    ok(await w.rest('alice', 'POST', `/v1/messages/${poll.id}/poll/close`));

    const events = await allEvents(w, 'carol', cid, since);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(LOGGED_EVENT_TYPES));
    const last = await w.lastSeq(cid);
    expect(events.map((e) => e.seq)).toEqual(range(since + 1, last));

    // Small pages with has_more give the same list.
    const paged: any[] = [];
    for (let after = since; ; ) {
      const r = await w.rest('carol', 'GET', `/v1/channels/${cid}/events?after=${after}&limit=4`);
      paged.push(...r.body.events);
      expect(r.body.last_seq).toBe(last);
      if (!r.body.has_more) break;
      expect(r.body.events).toHaveLength(4);
      after = r.body.events.at(-1).seq;
    }
    expect(paged).toEqual(events);

    const applied = applyEvents(old, events);
    const fresh = await snapshot('carol', cid);
    expect(view(applied, 'carol')).toEqual(view(fresh, 'carol'));
    for (const [id, m] of Object.entries(fresh.messages))
      expect([...m.own_reactions].sort()).toEqual(view(applied, 'carol').messages[id]!.own_reactions);
    // The same log gives bob his own view too.
    expect(view(applied, 'bob')).toEqual(view(await snapshot('bob', cid), 'bob'));
    // Replaying onto the wrong snapshot would not: the comparison has teeth.
    expect(view(applyEvents(old, events.slice(0, -1)), 'carol')).not.toEqual(view(fresh, 'carol'));
  });

  it('events: bad paths', async () => {
    const grp = await w.channel('alice', 'group', 'ev-bad', ['bob']);
    const pub = await w.channel('alice', 'public', 'ev-pub', ['bob']);
    await w.send('alice', pub, 'public news');
    expectError(await w.rest('bob', 'GET', `/v1/channels/${grp}/events`), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('bob', 'GET', `/v1/channels/${grp}/events?after=-1`), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('bob', 'GET', `/v1/channels/${grp}/events?after=0&limit=1001`), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('dave', 'GET', `/v1/channels/${grp}/events?after=0`), 404, 'NOT_FOUND');
    expectError(await w.rest('dave', 'GET', '/v1/channels/group:none/events?after=0'), 404, 'NOT_FOUND');
    const r = await w.rest('dave', 'GET', `/v1/channels/${pub}/events?after=0`);
    expect(r.body).toMatchObject({
      last_seq: 1,
      reload: false,
      has_more: false,
      events: [{ seq: 1, type: 'message.new' }],
    });
    const future = await w.rest('bob', 'GET', `/v1/channels/${pub}/events?after=99`);
    expect(future.body).toMatchObject({ events: [], reload: false });
  });
});

describe('channel.watch {cid, since}', () => {
  it('after a reconnect, replays exactly the missed events in order, then live ones, each once', async () => {
    const cid = await w.channel('alice', 'group', 'watch', ['bob', 'carol']);
    for (let i = 0; i < 3; i++) await w.send('alice', cid, `before ${i}`);
    let carol = await w.socket('carol');
    const since = (await carol.waitFor((f) => f.type === 'hello')).channels[cid] as number;
    expect(since).toBe(3);
    carol.close();
    await carol.waitClose();

    const m = await w.send('bob', cid, 'missed 1');
    await w.rest('alice', 'POST', `/v1/messages/${m.id}/reactions`, { type: 'like' });
    await w.rest('bob', 'PATCH', `/v1/messages/${m.id}`, { text: 'missed 1 (edited)' });
    await w.rest('alice', 'PATCH', `/v1/channels/${cid}`, { topic: 'while away' });
    await w.send('alice', cid, 'missed 2');
    const last = await w.lastSeq(cid);
    const logged = await allEvents(w, 'carol', cid, since);

    carol = await w.socket('carol');
    const r = await carol.request('channel.watch', { cid, since });
    expect(r).toMatchObject({ ok: true, reload: false, channel: { cid, last_seq: last } });
    // The replay comes before the reply, exactly as the log has it.
    const replayed = carol.events().filter((f) => f.cid === cid && typeof f.seq === 'number');
    expect(replayed).toEqual(logged);
    const live = await w.send('bob', cid, 'live');
    await carol.waitFor((f) => f.type === 'message.new' && f.message.id === live.id);
    await w.rest('alice', 'POST', `/v1/messages/${live.id}/reactions`, { type: 'like' });
    await carol.waitFor((f) => f.type === 'reaction.new' && f.message.id === live.id);
    expect(seqsOn(carol, cid)).toEqual(range(since + 1, last + 2));
  });

  it('a non-member watching a public channel while it is busy gets every event once, in order', async () => {
    const cid = await w.channel('alice', 'public', 'busy-pub', ['bob']);
    for (let i = 0; i < 10; i++) await w.send(i % 2 ? 'alice' : 'bob', cid, `old ${i}`);
    const dave = await w.socket('dave');
    const N = 40;
    const [reply] = await Promise.all([
      dave.request('channel.watch', { cid, since: 2 }),
      ...Array.from({ length: N }, (_, i) => w.send(i % 2 ? 'alice' : 'bob', cid, `new ${i}`)),
    ]);
    expect(reply).toMatchObject({ ok: true, reload: false });
    const last = await w.lastSeq(cid);
    expect(last).toBe(10 + N);
    await eventually(() => seqsOn(dave, cid).at(-1) === last, 30_000);
    expect(seqsOn(dave, cid)).toEqual(range(3, last));
    // Unwatch: nothing more arrives (a ping round trip after the next send proves it).
    expect((await dave.request('channel.unwatch', { cid })).ok).toBe(true);
    await w.send('alice', cid, 'after unwatch');
    await dave.request('ping');
    expect(seqsOn(dave, cid).at(-1)).toBe(last);
  });

  it('regression: an event published while channel.watch checks access was sent live and again in the replay', async () => {
    const cid = await w.channel('alice', 'group', 'watch-race', ['frank']);
    for (let i = 0; i < 4; i++) await w.send('alice', cid, `m${i}`);
    // The node follows the channel before frank connects, so his connect has no catch-up: a
    // catch-up still reading the log when 'raced' commits would send seq 5 before the watch's
    // replay of 2..4, which the protocol allows ("Ordering, exactly-once and resync") and this
    // test is not about. (CI twice got [5, 2, 3, 4] that way on PostgreSQL.)
    await w.socket('alice');
    const frank = await w.socket('frank');
    // Let frank's presence announcement (which selects his user row) finish first; frank has no
    // other socket, so his first connect always announces him online.
    await frank.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'frank');
    // Publishing of the next send is held back, so it can be released at a chosen moment.
    const bus = h.server.svc.bus;
    const publish = bus.publish.bind(bus);
    const stash: Parameters<typeof publish>[0][number][] = [];
    bus.publish = (events) => {
      stash.push(...events);
    };
    let released = false;
    try {
      const m = await w.send('alice', cid, 'raced');
      expect(m.seq).toBe(5);
      // Block reads of the channel (the watch handler's access check) behind a table lock.
      let unlock!: () => void;
      const gate = new Promise<void>((r) => {
        unlock = r;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const blocker = h.database.db.transaction(async (tx) => {
        await tx.execute(sql`lock table channels in access exclusive mode`);
        locked();
        await gate;
      });
      await isLocked;
      // Notice the watch handler's access check (the batched watch read, which the lock blocks).
      const watches = h.server.svc.watches;
      let reads = 0;
      watches.add = ((...args: Parameters<typeof watches.add>) => {
        reads++;
        return Object.getPrototypeOf(watches).add.apply(watches, args);
      }) as typeof watches.add;
      const watch = frank.request('channel.watch', { cid, since: 1 });
      // The handler has asked for its (blocked) access read: now the event goes out.
      await eventually(() => reads > 0);
      delete (watches as { add?: unknown }).add;
      bus.publish = publish;
      publish(stash);
      released = true;
      unlock();
      await blocker;
      expect((await watch).ok).toBe(true);
      await frank.request('ping');
      expect(seqsOn(frank, cid)).toEqual([2, 3, 4, 5]);
    } finally {
      delete (h.server.svc.watches as { add?: unknown }).add;
      bus.publish = publish;
      if (!released) publish(stash);
    }
  });
  it('a failed batched watch read: each watch is read on its own, the failure logged once per batch', async () => {
    const cid = await w.channel('alice', 'group', 'watch-fallback', ['bob', 'carol']);
    for (let i = 0; i < 3; i++) await w.send('alice', cid, `m${i}`);
    const [bob, carol] = [await w.socket('bob'), await w.socket('carol')];
    const logged = await allEvents(w, 'bob', cid, 1);
    // The batched statement fails once, as a dropped hot connection would; the rest runs.
    const svc = h.server.svc;
    const prepared = svc.database.prepared;
    const warn = svc.log.warn.bind(svc.log);
    const warnings: unknown[] = [];
    let failures = 0;
    svc.database.prepared = (async (stmt, ...rest) => {
      if (stmt.name === 'parley_watch_read' && failures++ === 0) throw new Error('hot connection lost');
      return prepared(stmt, ...rest);
    }) as typeof prepared;
    svc.log.warn = ((...args: unknown[]) => {
      warnings.push(args[0]);
      return (warn as (...a: unknown[]) => void)(...args);
    }) as typeof svc.log.warn;
    try {
      // Sent in one turn: one batch, which fails for both.
      const [rb, rc] = await Promise.all([
        bob.request('channel.watch', { cid, since: 1 }),
        carol.request('channel.watch', { cid, since: 1 }),
      ]);
      expect(rb).toMatchObject({ ok: true, reload: false, channel: { cid, last_seq: 3 } });
      expect(rc).toMatchObject({ ok: true, reload: false, channel: { cid, last_seq: 3 } });
      for (const s of [bob, carol])
        expect(s.events().filter((f) => f.cid === cid && typeof f.seq === 'number')).toEqual(logged);
      expect(failures).toBe(1);
      expect(warnings).toEqual([expect.objectContaining({ watches: 2 })]);
      // A stranger's watch on the fallback path is still refused.
      svc.database.prepared = (async (stmt, ...rest) => {
        if (stmt.name === 'parley_watch_read') throw new Error('hot connection lost');
        return prepared(stmt, ...rest);
      }) as typeof prepared;
      expectWsError(await (await w.socket('dave')).request('channel.watch', { cid, since: 0 }), 'NOT_FOUND');
    } finally {
      svc.database.prepared = prepared;
      svc.log.warn = warn;
    }
  });
});

describe('reload past maxReplay', () => {
  let h2: Harness;
  let w2: World;
  beforeAll(async () => {
    h2 = await startHarness({ maxReplay: 5 });
    w2 = await makeWorld(h2, [{ id: 'alice' }, { id: 'bob' }]);
  });
  afterAll(async () => {
    await w2.closeSockets();
    await h2.close();
  });

  it('REST answers reload:true with no events; within the limit it replays', async () => {
    const cid = await w2.channel('alice', 'group', 'long', ['bob']);
    for (let i = 0; i < 8; i++) await w2.send('alice', cid, `m${i}`);
    const far = await w2.rest('bob', 'GET', `/v1/channels/${cid}/events?after=0`);
    expect(far.body).toEqual({ events: [], last_seq: 8, reload: true, has_more: false });
    const two = await w2.rest('bob', 'GET', `/v1/channels/${cid}/events?after=2`);
    expect(two.body).toMatchObject({ events: [], reload: true });
    const near = await w2.rest('bob', 'GET', `/v1/channels/${cid}/events?after=3`);
    expect(near.body.reload).toBe(false);
    expect(near.body.events.map((e: any) => e.seq)).toEqual([4, 5, 6, 7, 8]);
  });

  it('WS channel.watch answers reload:true, replays nothing, and goes live', async () => {
    const cid = await w2.channel('alice', 'group', 'long-ws', ['bob']);
    for (let i = 0; i < 8; i++) await w2.send('alice', cid, `m${i}`);
    const bob = await w2.socket('bob');
    const r = await bob.request('channel.watch', { cid, since: 1 });
    expect(r).toMatchObject({ ok: true, reload: true, channel: { cid, last_seq: 8 } });
    expect(seqsOn(bob, cid)).toEqual([]);
    const m = await w2.send('alice', cid, 'live');
    await bob.waitFor((f) => f.type === 'message.new' && f.message.id === m.id);
    expect(seqsOn(bob, cid)).toEqual([9]);
    // Within the limit, a socket that missed them gets them replayed, then live ones.
    const again = await w2.socket('bob');
    const ok = await again.request('channel.watch', { cid, since: 4 });
    expect(ok.reload).toBe(false);
    expect(seqsOn(again, cid)).toEqual([5, 6, 7, 8, 9]);
    const m2 = await w2.send('alice', cid, 'live 2');
    await again.waitFor((f) => f.type === 'message.new' && f.message.id === m2.id);
    expect(seqsOn(again, cid)).toEqual([5, 6, 7, 8, 9, 10]);
    // A non-member of a group cannot watch it.
    const alice = await w2.socket('alice');
    const g2 = await w2.channel('bob', 'group', 'private', []);
    expectWsError(await alice.request('channel.watch', { cid: g2, since: 0 }), 'NOT_FOUND');
  });
});

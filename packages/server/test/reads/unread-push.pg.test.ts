/**
 * Unread counts the server pushes (`unread.updated`, features/reads/push.ts), on two nodes of
 * one database (through Redis when REDIS_URL is set): each change that moves a user's counts —
 * a message from someone else, a mention, a read, a mark unread, a deletion, a join, a leave, a
 * channel mute, a user mute — reaches every connection of that user on both nodes, with the
 * channel's counts and the totals exactly as the REST answers give them, ordered by `rev`; the
 * author, the other members whose counts did not move, and another app's user of the same id
 * hear nothing of it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterBrokers,
  eventually,
  type Harness,
  startHarness,
  type TestApp,
  TestSocket,
  testDatabase,
} from '../harness.js';

const broker = clusterBrokers('unread');
const masterKey = 'e'.repeat(64);
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let app: TestApp;
let other: TestApp;
const sockets: TestSocket[] = [];

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function rest(user: string, method: Method, url: string, payload?: unknown, a = app, h = n1) {
  const r = await h.call({ method, url, headers: await a.user(user), ...(payload ? { payload } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}
const send = async (user: string, cid: string, text: string) =>
  (await rest(user, 'POST', `/v1/channels/${cid}/messages`, { text })).message;
async function socket(h: Harness, user: string, a = app) {
  const s = await TestSocket.connect(await h.listen(), a, user);
  sockets.push(s);
  return s;
}
/** What REST says of `user`'s counts: totals, and the channel's counts. */
async function truth(user: string, cid: string) {
  const me = await rest(user, 'GET', '/v1/me');
  const q = await rest(user, 'POST', '/v1/channels/query', { filter: { cid } });
  const c = q.channels[0];
  return {
    total: me.unread.total,
    mentions: me.unread.mentions,
    channels: me.unread.channels,
    unread_count: c?.membership ? c.unread_count : 0,
    mention_count: c?.membership ? (c.mention_count ?? 0) : 0,
  };
}
const pushes = (s: TestSocket) => s.events('unread.updated');
/** The newest push a socket holds (largest rev), about `cid`. */
function newest(s: TestSocket, cid: string) {
  const about = pushes(s).filter((e) => e.cid === cid);
  return about.reduce((a, b) => (b.rev > a.rev ? b : a), about[0]);
}
/**
 * Every socket's newest push about `cid` says what REST says now of the channel, and its newest
 * push of all (a client keeps the totals of the largest rev) says the totals.
 */
async function agree(user: string, cid: string, socks: TestSocket[]) {
  await settle();
  const want = await truth(user, cid);
  for (const s of socks)
    await eventually(() => {
      const e = newest(s, cid);
      const all = pushes(s).reduce((a, b) => (b.rev > a.rev ? b : a), e);
      return (
        !!e &&
        e.unread_count === want.unread_count &&
        e.mention_count === want.mention_count &&
        all.total === want.total &&
        all.mentions === want.mentions &&
        all.channels === want.channels
      );
    });
  return want;
}
const settle = async () => {
  await n1.server.svc.unread.settled();
  await n2.server.svc.unread.settled();
};

beforeAll(async () => {
  db = await testDatabase();
  n1 = await startHarness({ nodeId: 'u1', masterKey }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ nodeId: 'u2', masterKey }, { database: db.database, broker: await broker() });
  app = await n1.createApp();
  other = await n1.createApp('other');
  await n1.users(
    app,
    ['ada', 'bob', 'cy', 'dee', 'eli'].map((id) => ({ id, name: id, username: id })),
  );
  await n1.users(other, [
    { id: 'bob', name: 'Other Bob' },
    { id: 'eve', name: 'Eve' },
  ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await n1?.close();
  await n2?.close();
  await db?.drop();
});

describe('unread.updated', () => {
  it("follows each change of a member's counts on every node, exactly, and reaches no one else", async () => {
    // Bob on both nodes (two devices), Ada (the author) on one, Cy not in the channel yet, and
    // the other app's Bob.
    const bob1 = await socket(n1, 'bob');
    const bob2 = await socket(n2, 'bob');
    const ada = await socket(n2, 'ada');
    const cy = await socket(n1, 'cy');
    const otherBob = await socket(n2, 'bob', other);
    const made = await rest('ada', 'POST', '/v1/channels', { type: 'group', id: 'pushed', members: ['bob'] });
    const cid = made.channel.cid as string;
    await settle();

    // A message from Ada: Bob's counts, on both nodes; Ada's own did not move.
    await send('ada', cid, 'one');
    let t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 1, mention_count: 0, total: 1, channels: 1 });
    // A mention: the mention count and the mentions total.
    await send('ada', cid, 'hey @bob');
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 2, mention_count: 1, total: 2, mentions: 1 });
    expect(newest(bob2, cid).last_seq).toBe((await rest('bob', 'GET', `/v1/channels/${cid}`)).channel.last_seq);

    // Read on one device (the socket's read.mark on node 2): both devices hear 0.
    const last = (await rest('bob', 'GET', `/v1/channels/${cid}`)).channel.last_seq;
    const reply = await bob2.request('read.mark', { cid, seq: last });
    expect(reply.ok).toBe(true);
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 0, mention_count: 0, total: 0, mentions: 0, channels: 0 });
    // The read's answer is ordered with the pushes: its counts, at its read_rev, are not older.
    expect(reply.read_rev).toBeLessThanOrEqual(newest(bob1, cid).rev);

    // Mark unread from the mention on (REST on node 1): back to one unread mention.
    const mention = (await rest('bob', 'GET', `/v1/channels/${cid}/messages`)).messages.find(
      (m: { text: string }) => m.text === 'hey @bob',
    );
    await rest('bob', 'POST', `/v1/channels/${cid}/unread`, { message_id: mention.id });
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 1, mention_count: 1, total: 1 });

    // The mention deleted: it leaves Bob's counts.
    await rest('ada', 'DELETE', `/v1/messages/${mention.id}`);
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 0, mention_count: 0, total: 0 });

    // Cy joins, then a message: Cy's counts arrive too (the join's, then the message's).
    const cyBefore = pushes(cy).length;
    await rest('ada', 'POST', `/v1/channels/${cid}/members`, { add: ['cy'] });
    await agree('cy', cid, [cy]);
    expect(pushes(cy).length).toBeGreaterThan(cyBefore);
    await send('ada', cid, 'three');
    t = await agree('cy', cid, [cy]);
    expect(t).toMatchObject({ unread_count: 1, total: 1 });
    await agree('bob', cid, [bob1, bob2]);

    // Bob mutes the channel: it leaves his totals, not the channel's count.
    await rest('bob', 'PATCH', `/v1/channels/${cid}/members/bob`, { muted: true });
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 1, total: 0, channels: 0 });
    await rest('bob', 'PATCH', `/v1/channels/${cid}/members/bob`, { muted: false });
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 1, total: 1 });

    // Cy mutes Ada (a user mute): Ada's messages leave Cy's counts everywhere; and back.
    await rest('cy', 'POST', '/v1/moderation/mutes', { user_id: 'ada' });
    t = await agree('cy', cid, [cy]);
    expect(t).toMatchObject({ unread_count: 0, total: 0 });
    await rest('cy', 'DELETE', '/v1/moderation/mutes/ada');
    t = await agree('cy', cid, [cy]);
    expect(t).toMatchObject({ unread_count: 1, total: 1 });

    // Bob leaves (removed by Ada): the channel's counts go to 0 with his totals.
    await rest('ada', 'POST', `/v1/channels/${cid}/members`, { remove: ['bob'] });
    t = await agree('bob', cid, [bob1, bob2]);
    expect(t).toMatchObject({ unread_count: 0, total: 0, channels: 0 });

    // The author heard nothing of her own messages, nor of the others' joins, reads and leaves:
    // at most the channel's arrival in her list, with nothing unread.
    const hers = pushes(ada).filter((e) => e.cid === cid);
    expect(hers.length).toBeLessThanOrEqual(1);
    expect(hers.every((e) => e.unread_count === 0 && e.total === 0)).toBe(true);

    // The other app's Bob: a push of his own app arrives (a fence), and nothing of this app's before it.
    const theirs = await rest('eve', 'POST', '/v1/channels', { type: 'group', id: 'fence', members: ['bob'] }, other);
    await rest('eve', 'POST', `/v1/channels/${theirs.channel.cid}/messages`, { text: 'hi' }, other);
    await settle();
    await otherBob.waitFor((f) => f.type === 'unread.updated' && f.cid === theirs.channel.cid && f.unread_count === 1);
    expect(pushes(otherBob).every((e) => e.cid === theirs.channel.cid)).toBe(true);
  }, 60_000);

  it('GET /v1/me answers the totals with a revision that orders them with the pushes', async () => {
    const bob = await socket(n2, 'bob');
    const made = await rest('ada', 'POST', '/v1/channels', { type: 'group', id: 'revs', members: ['bob'] });
    const before = (await rest('bob', 'GET', '/v1/me')).unread;
    expect(Number.isInteger(before.rev)).toBe(true);
    await send('ada', made.channel.cid, 'after');
    await settle();
    const e = await bob.waitFor(
      (f) => f.type === 'unread.updated' && f.cid === made.channel.cid && f.unread_count === 1,
    );
    expect(e.rev).toBeGreaterThan(before.rev);
    expect(e.total).toBe(before.total + 1);
    const after = (await rest('bob', 'GET', '/v1/me', undefined, app, n2)).unread;
    expect(after.rev).toBeGreaterThan(e.rev);
    expect(after.total).toBe(e.total);
  });

  it('reads the counts of users of two apps in one statement, whatever characters their ids hold', async () => {
    // An id no API accepts (a comma, quotes, a backslash, brackets, a letter outside ASCII), as a
    // row written by other means may hold: the statement's answer must still say whose each
    // count is, here beside another app's users read in the same statement.
    const odd = 'wé"ird,id\\;{[1]} ü';
    const made = await rest('ada', 'POST', '/v1/channels', { type: 'group', id: 'odd-ids', members: ['bob', 'cy'] });
    const cid = made.channel.cid;
    const db = n1.server.svc.db;
    await db.execute(sql`insert into users (app_id, id, name) values (${app.id}, ${odd}, 'Odd')`);
    await db.execute(sql`insert into members
      select (json_populate_record(m, json_build_object('user_id', ${odd}::text))).* from members m
      where m.app_id = ${app.id} and m.cid = ${cid} and m.user_id = 'bob'`);
    await db.execute(sql`insert into user_mutes (app_id, user_id, muted_user_id) values (${app.id}, ${odd}, 'cy')`);
    await send('ada', cid, 'one');
    await send('cy', cid, 'muted by the odd id');
    await send('ada', cid, 'two');
    const theirs = await rest('eve', 'POST', '/v1/channels', { type: 'group', id: 'odd-ids', members: ['bob'] }, other);
    await rest('eve', 'POST', `/v1/channels/${theirs.channel.cid}/messages`, { text: 'hi' }, other);
    await settle();

    const [mine, others] = await Promise.all([
      n1.server.svc.unread.totals(app.id, [odd, 'bob', 'cy']),
      n1.server.svc.unread.totals(other.id, ['bob', 'eve']),
    ]);
    expect(mine.get(odd)).toBe(2);
    expect(mine.get('bob')).toBe((await rest('bob', 'GET', '/v1/me')).unread.total);
    expect(mine.get('cy')).toBe((await rest('cy', 'GET', '/v1/me')).unread.total);
    expect(others.get('bob')).toBe((await rest('bob', 'GET', '/v1/me', undefined, other)).unread.total);
    expect(others.get('bob')).toBeGreaterThan(0);
    expect(others.get('eve')).toBe((await rest('eve', 'GET', '/v1/me', undefined, other)).unread.total);
  });

  it("reads no one's counts for a message while they are connected nowhere; an edit that adds or drops a mention pushes it", async () => {
    const made = await rest('ada', 'POST', '/v1/channels', { type: 'group', id: 'quiet', members: ['dee', 'eli'] });
    const cid = made.channel.cid as string;
    await settle();
    // Counts read for pushes on each node (parley_unread_push_counts_total).
    const reads = async () =>
      Promise.all([n1, n2].map(async (h) => (await h.server.svc.metrics.unreadPairs.get()).values[0]?.value ?? 0));
    const before = await reads();
    for (const text of ['one', 'two', 'three']) await send('ada', cid, text);
    await settle();
    expect(await reads()).toEqual(before);

    // Dee connects on node 2: the next message reads her counts there, once, and nowhere else.
    const dee = await socket(n2, 'dee');
    await send('ada', cid, 'four');
    let t = await agree('dee', cid, [dee]);
    expect(t).toMatchObject({ unread_count: 4, mention_count: 0, total: 4 });
    const after = await reads();
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBe((before[1] ?? 0) + 1);

    // Ada edits a message to mention Dee, then takes the mention out: each edit moves Dee's count.
    const sent = await send('ada', cid, 'plain');
    await agree('dee', cid, [dee]);
    await rest('ada', 'PATCH', `/v1/messages/${sent.id}`, { text: 'plain @dee' });
    t = await agree('dee', cid, [dee]);
    expect(t).toMatchObject({ unread_count: 5, mention_count: 1, mentions: 1 });
    await rest('ada', 'PATCH', `/v1/messages/${sent.id}`, { text: 'plain again' });
    t = await agree('dee', cid, [dee]);
    expect(t).toMatchObject({ unread_count: 5, mention_count: 0, mentions: 0 });

    // @channel mentions Dee too (without a flag of hers); her own message counts for no one of
    // hers; Eli (who shares her read mark) muting Ada leaves Dee's counts alone.
    await send('ada', cid, 'standup @channel');
    await send('dee', cid, 'mine');
    await rest('eli', 'POST', '/v1/moderation/mutes', { user_id: 'ada' });
    await send('ada', cid, 'and @dee again');
    t = await agree('dee', cid, [dee]);
    expect(t).toMatchObject({ unread_count: 7, mention_count: 2, mentions: 2 });
    const eli = await socket(n1, 'eli');
    await send('dee', cid, 'to eli');
    t = await agree('eli', cid, [eli]);
    expect(t).toMatchObject({ unread_count: 2, mention_count: 0 });
  });

  it('agree with REST after a random run of sends, mentions, reads, mutes, deletes and edits in two channels', async () => {
    // A seeded run (mulberry32), so a failure can be made again: five members on two nodes who
    // mostly share read marks, mention each other and @channel, read now and then, mute and
    // unmute authors, and delete and edit earlier messages, so a member's count is their mark's
    // pass less their own and their muted authors' messages, and a pass a node kept from an
    // earlier batch stops holding when a message in it goes or changes (kept-passes.ts).
    let a = 20261129;
    const rnd = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    const people = ['ada', 'bob', 'cy', 'dee', 'eli'];
    const socks = new Map<string, TestSocket>();
    for (const [i, u] of people.entries()) socks.set(u, await socket(i % 2 ? n2 : n1, u));
    const cids: string[] = [];
    for (const id of ['rand1', 'rand2']) {
      const made = await rest('ada', 'POST', '/v1/channels', {
        type: 'group',
        id,
        members: people.filter((u) => u !== 'ada'),
      });
      cids.push(made.channel.cid as string);
    }
    const passes = async (from: 'mark' | 'kept') => {
      let n = 0;
      for (const h of [n1, n2])
        for (const v of (await h.server.svc.metrics.unreadPasses.get()).values)
          if (v.labels.from === from) n += v.value;
      return n;
    };
    const keptBefore = await passes('kept');
    const muted = new Set<string>();
    const sent: { id: string; author: string; text: string }[] = [];
    let changed = 0;
    for (let step = 0; step < 90; step++) {
      const who = pick(people);
      const cid = pick(cids);
      const roll = rnd();
      if (roll < 0.5 || sent.length === 0) {
        const text = rnd() < 0.15 ? 'all hands @channel' : rnd() < 0.4 ? `ping @${pick(people)}` : `step ${step}`;
        const m = await send(who, cid, text);
        sent.push({ id: m.id, author: who, text });
      } else if (roll < 0.62) {
        const last = (await rest(who, 'GET', `/v1/channels/${cid}`)).channel.last_seq as number;
        await rest(who, 'POST', `/v1/channels/${cid}/read`, { seq: Math.max(0, last - Math.floor(rnd() * 3)) });
      } else if (roll < 0.74) {
        const target = pick(people.filter((u) => u !== who));
        const k = `${who}>${target}`;
        if (muted.has(k)) await rest(who, 'DELETE', `/v1/moderation/mutes/${target}`);
        else await rest(who, 'POST', '/v1/moderation/mutes', { user_id: target });
        if (muted.has(k)) muted.delete(k);
        else muted.add(k);
      } else if (roll < 0.87) {
        // An earlier message goes: it leaves the counts of everyone past whose mark it was.
        const [m] = sent.splice(Math.floor(rnd() * sent.length), 1);
        if (m) await rest(m.author, 'DELETE', `/v1/messages/${m.id}`);
        changed++;
      } else {
        // An earlier message gains or loses @channel: its mention moves in every count holding it.
        const m = pick(sent);
        m.text = m.text.includes('@channel') ? `edited ${step}` : `edited ${step} @channel`;
        await rest(m.author, 'PATCH', `/v1/messages/${m.id}`, { text: m.text });
        changed++;
      }
      if (step % 15 === 14)
        for (const u of people) for (const c of cids) await agree(u, c, [socks.get(u) as TestSocket]);
    }
    expect(muted.size).toBeGreaterThan(0);
    expect(changed).toBeGreaterThan(5);
    for (const u of people) for (const cid of cids) await agree(u, cid, [socks.get(u) as TestSocket]);
    // The nodes added to passes they kept, so the run went through both ways of counting.
    expect(await passes('kept')).toBeGreaterThan(keptBefore);
  }, 120_000);
});

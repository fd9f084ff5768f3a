/**
 * Moderation, through the public API on a real database: channel settings (freeze, slow mode,
 * open reactions), bans in a channel and app-wide (timed ones lifted by the job queue; an
 * app-wide ban closing the user's sockets on two nodes), flags and the moderation queue with
 * the reporter told the outcome, automod (words, the regex guard, domains, spam, mention
 * floods, flag behaviour), shadowed messages hidden by id as in history, and the rate limits' 429s.
 */
import { CLOSE_CODES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, NO_LIMITS } from '../../src/platform/config.js';
import { expectError, ok, world } from '../channels/helpers.js';
import { clusterBrokers, type Harness, startHarness, TestSocket, testDatabase } from '../harness.js';

const broker = clusterBrokers('mod');

let db: Awaited<ReturnType<typeof testDatabase>>;
let h: Harness;
let h2: Harness;
let url: string;
let url2: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  db = await testDatabase();
  const masterKey = 'c'.repeat(64);
  h = await startHarness(
    { nodeId: 'm1', masterKey, jobPollMs: 200 },
    { database: db.database, broker: await broker() },
  );
  h2 = await startHarness(
    { nodeId: 'm2', masterKey, jobPollMs: 200 },
    { database: db.database, broker: await broker() },
  );
  url = await h.listen();
  url2 = await h2.listen();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await h2?.close();
  await h?.close();
  await db?.drop();
});

async function connect(base: string, app: any, user: string) {
  const s = await TestSocket.connect(base, app, user);
  sockets.push(s);
  return s;
}

/** A world with a public channel `public:p`: alice owner, carol moderator, bob and dave members. */
async function room() {
  const w = await world(h, [
    { id: 'appmod', role: 'moderator' },
    { id: 'appadmin', role: 'admin' },
  ]);
  ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob', 'carol', 'dave'] }));
  ok(await w.alice.setMember('public:p', 'carol', { role: 'moderator' }));
  return w;
}

describe('channel settings', () => {
  it('freeze: only moderators post; members see it in own_capabilities; members may not freeze', async () => {
    const w = await room();
    expectError(await w.dave.update('public:p', { frozen: true }), 'FORBIDDEN');
    const frozen = ok(await w.carol.update('public:p', { frozen: true })).channel;
    expect(frozen.frozen).toBe(true);
    const r = await w.dave.send('public:p', 'hello?');
    expectError(r, 'FORBIDDEN');
    expect(r.body.error.message).toMatch(/frozen/);
    expect(ok(await w.dave.channel('public:p')).channel.own_capabilities).not.toContain('send-message');
    ok(await w.carol.send('public:p', 'moderators still post'));
    // Reactions stop too, for members.
    const m = ok(await w.carol.send('public:p', 'react to me')).message;
    expectError(await w.dave.react(m.id), 'FORBIDDEN');
    ok(await w.carol.update('public:p', { frozen: false }));
    ok(await w.dave.send('public:p', 'thawed'));
    ok(await w.dave.react(m.id));
  });

  it('slow mode: one message per N s per member, the wait in the error, moderators exempt, every send path', async () => {
    const w = await room();
    ok(await w.alice.update('public:p', { slow_mode_s: 30 }));
    const first = ok(await w.dave.send('public:p', 'one')).message;
    const second = await w.dave.send('public:p', 'two');
    expectError(second, 'RATE_LIMITED');
    expect(second.body.error.details).toMatchObject({ limit: 'slow_mode', scope: 'user' });
    const wait = second.body.error.details.retry_after_ms;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(30_000);
    // The one-send path (a thread reply) and the socket are held to the same window.
    expectError(await w.dave.send('public:p', 'reply', { parent_id: first.id }), 'RATE_LIMITED');
    const s = await connect(url, w.app, 'dave');
    const reply = await s.request('message.send', { cid: 'public:p', message: { text: 'over the socket' } });
    expect(reply.ok).toBe(false);
    expect(reply.error.code).toBe('RATE_LIMITED');
    // Another member has their own window; moderators have none.
    ok(await w.bob.send('public:p', 'bob one'));
    ok(await w.carol.send('public:p', 'c1'));
    ok(await w.carol.send('public:p', 'c2'));
    expect(ok(await w.carol.channel('public:p')).channel.own_capabilities).toContain('skip-slow-mode');
    expect(ok(await w.dave.channel('public:p')).channel).toMatchObject({ slow_mode_s: 30 });
    // Off again: no wait.
    ok(await w.alice.update('public:p', { slow_mode_s: 0 }));
    ok(await w.dave.send('public:p', 'free again'));
    expect((await w.alice.update('public:p', { slow_mode_s: 3601 })).status).toBe(400);
  });

  it('reactions: members only by default; open lets anyone who reads react', async () => {
    const w = await room();
    const m = ok(await w.bob.send('public:p', 'hi')).message;
    expectError(await w.erin.react(m.id), 'FORBIDDEN');
    ok(await w.carol.update('public:p', { reactions: 'open' }));
    expect(ok(await w.erin.channel('public:p')).channel.own_capabilities).toContain('send-reaction');
    ok(await w.erin.react(m.id));
    // Posting still needs membership.
    expectError(await w.erin.send('public:p', 'not a member'), 'FORBIDDEN');
  });
});

describe('bans', () => {
  it('in a channel: the member is removed, cannot rejoin or be added, is listed, and can come back once lifted', async () => {
    const w = await room();
    expectError(await w.dave.post('/v1/moderation/bans', { user_id: 'bob', cid: 'public:p' }), 'FORBIDDEN');
    // A moderator may not ban the owner (their role is not below).
    expectError(await w.carol.post('/v1/moderation/bans', { user_id: 'alice', cid: 'public:p' }), 'FORBIDDEN');
    const ban = ok(await w.carol.post('/v1/moderation/bans', { user_id: 'dave', cid: 'public:p', reason: 'spam' })).ban;
    expect(ban).toMatchObject({
      user_id: 'dave',
      cid: 'public:p',
      reason: 'spam',
      banned_by: 'carol',
      expires_at: null,
    });
    const members = ok(await w.alice.channel('public:p')).members.map((m: any) => m.user_id);
    expect(members).not.toContain('dave');
    expectError(await w.dave.send('public:p', 'still here?'), 'FORBIDDEN');
    const rejoin = await w.dave.members('public:p', { add: ['dave'] });
    expectError(rejoin, 'BANNED');
    expect(rejoin.body.error.details).toMatchObject({ cid: 'public:p', reason: 'spam' });
    expectError(await w.alice.members('public:p', { add: ['dave'] }), 'BANNED');
    expect(ok(await w.carol.get('/v1/moderation/bans?cid=public:p')).bans).toEqual([ban]);
    expectError(await w.bob.get('/v1/moderation/bans?cid=public:p'), 'FORBIDDEN');
    // Other channels are not affected.
    ok(await w.alice.create({ type: 'public', id: 'other', members: ['dave'] }));
    ok(await w.dave.send('public:other', 'fine here'));
    ok(await w.carol.post('/v1/moderation/unban', { user_id: 'dave', cid: 'public:p' }));
    expectError(await w.carol.post('/v1/moderation/unban', { user_id: 'dave', cid: 'public:p' }), 'NOT_FOUND');
    ok(await w.dave.members('public:p', { add: ['dave'] }));
    ok(await w.dave.send('public:p', 'back'));
    // The audit log has both, newest first, with who did it to whom where.
    const trail = ok(await w.as('appadmin').get('/v1/audit?action=moderation.')).entries;
    expect(trail.map((e: any) => [e.action, e.actor.id, e.target.kind, e.target.id, e.details.cid])).toEqual([
      ['moderation.unban', 'carol', 'user', 'dave', 'public:p'],
      ['moderation.ban', 'carol', 'user', 'dave', 'public:p'],
    ]);
    expect(trail[1].details.reason).toBe('spam');
  });

  it('a timed ban lifts by itself through the job queue', async () => {
    const w = await room();
    ok(await w.carol.post('/v1/moderation/bans', { user_id: 'dave', cid: 'public:p', timeout_s: 1 }));
    expectError(await w.dave.members('public:p', { add: ['dave'] }), 'BANNED');
    // The job deletes the row once the ban expires (polled, generous bound).
    await expect
      .poll(
        async () => (await h.database.db.query.bans.findMany({ where: (b, { eq }) => eq(b.appId, w.app.id) })).length,
        {
          timeout: 30_000,
          interval: 250,
        },
      )
      .toBe(0);
    ok(await w.dave.members('public:p', { add: ['dave'] }));
  });

  it('app-wide: refuses every action, closes the user’s sockets on both nodes, refuses new ones, tells moderators', async () => {
    const w = await room();
    const d1 = await connect(url, w.app, 'dave');
    const d2 = await connect(url2, w.app, 'dave');
    const mod = await connect(url2, w.app, 'appmod');
    // Only app moderators and admins ban app-wide; nobody bans someone of their own rank or above.
    expectError(await w.carol.post('/v1/moderation/bans', { user_id: 'dave', reason: 'x' }), 'FORBIDDEN');
    expectError(await w.as('appmod').post('/v1/moderation/bans', { user_id: 'appadmin' }), 'FORBIDDEN');
    const ban = ok(await w.as('appmod').post('/v1/moderation/bans', { user_id: 'dave', reason: 'abuse' })).ban;
    expect(ban).toMatchObject({ user_id: 'dave', cid: null, reason: 'abuse' });
    expect((await d1.waitClose(20_000)).code).toBe(CLOSE_CODES.BANNED);
    expect((await d2.waitClose(20_000)).code).toBe(CLOSE_CODES.BANNED);
    expect(d1.frames.some((f: any) => f.type === 'user.banned' && f.user_id === 'dave')).toBe(true);
    await mod.waitFor((f) => f.type === 'user.banned' && f.user_id === 'dave' && f.ban.reason === 'abuse', 20_000);
    // REST, on either node.
    expectError(await w.dave.send('public:p', 'hello'), 'BANNED');
    // Reading too (dave is still a member: the ban is not a removal), and self-joins.
    expectError(await w.dave.history('public:p'), 'BANNED');
    expectError(await w.dave.members('public:p', { add: ['dave'] }), 'BANNED');
    const viaB = await h2.call({
      method: 'POST',
      url: '/v1/channels/public:p/messages',
      headers: await w.app.user('dave'),
      payload: { text: 'via b' },
    });
    expectError(viaB, 'BANNED');
    ok(await w.alice.create({ type: 'public', id: 'q' }));
    expectError(await w.dave.members('public:q', { add: ['dave'] }), 'BANNED');
    // A new socket gets 4503 instead of hello.
    const again = await TestSocket.open(url2, w.app.apiKey);
    sockets.push(again);
    again.sendRaw(JSON.stringify({ type: 'auth', token: await w.app.token('dave') }));
    expect((await again.waitClose(20_000)).code).toBe(CLOSE_CODES.BANNED);
    expect(ok(await w.as('appadmin').get('/v1/moderation/bans')).bans.map((b: any) => b.user_id)).toContain('dave');
    ok(await w.as('appadmin').post('/v1/moderation/unban', { user_id: 'dave' }));
    ok(await w.dave.send('public:p', 'unbanned'));
    await connect(url, w.app, 'dave');
  });
});

describe('shadow bans', () => {
  it('a shadowed message is NOT_FOUND by id (fetch, replies, reply, quote, react, edit, pin) but for its author and moderators', async () => {
    const w = await room();
    const appmod = w.as('appmod');
    const appadmin = w.as('appadmin');
    ok(await w.alice.members('public:p', { add: ['appmod', 'appadmin'] }));
    ok(await appmod.post('/v1/moderation/bans', { user_id: 'dave', shadow: true }));
    const hidden = ok(await w.dave.send('public:p', 'shadowed')).message;
    const plain = ok(await w.bob.send('public:p', 'not shadowed')).message;
    const byId = `/v1/messages/${hidden.id}`;

    // Another member (and the channel's own moderator, carol): as if it did not exist.
    for (const who of [w.bob, w.carol]) {
      expectError(await who.get(byId), 'NOT_FOUND');
      expectError(await who.get(`${byId}/replies`), 'NOT_FOUND');
      expectError(await who.get(`${byId}/versions`), 'NOT_FOUND');
      expectError(await who.react(hidden.id), 'NOT_FOUND');
      expectError(await who.del(`${byId}/reactions/like`), 'NOT_FOUND');
      expectError(await who.post(`${byId}/pin`), 'NOT_FOUND');
      expectError(await who.patch(byId, { text: 'edited' }), 'NOT_FOUND');
      expectError(await who.deleteMessage(hidden.id), 'NOT_FOUND');
      expectError(await who.post('/v1/moderation/flags', { message_id: hidden.id, reason: 'spam' }), 'NOT_FOUND');
      // A reply or a quote answers exactly as for an id that names no message.
      const missing = await who.send('public:p', 'x', { parent_id: '01900000-0000-7000-8000-000000000000' });
      expectError(missing, 'VALIDATION_ERROR');
      const reply = await who.send('public:p', 'x', { parent_id: hidden.id });
      expectError(reply, 'VALIDATION_ERROR');
      expect(reply.body.error.message).toBe(missing.body.error.message);
      expectError(await who.send('public:p', 'x', { quoted_message_id: hidden.id }), 'VALIDATION_ERROR');
    }
    // The same calls on a message that is not shadowed work: the refusals above are the shadow's.
    ok(await w.bob.get(`/v1/messages/${plain.id}`));
    ok(await w.carol.react(plain.id));
    // Another app's user knows nothing either.
    const other = await world(h);
    expectError(await other.bob.get(byId), 'NOT_FOUND');

    // The author sees no difference: fetch, reply, quote, react, edit and pin their message.
    expect(ok(await w.dave.get(byId)).message.id).toBe(hidden.id);
    ok(await w.dave.send('public:p', 'my reply', { parent_id: hidden.id }));
    ok(await w.dave.send('public:p', 'my quote', { quoted_message_id: hidden.id }));
    ok(await w.dave.react(hidden.id));
    expect(ok(await w.dave.patch(byId, { text: 'shadowed, edited' })).message.text).toBe('shadowed, edited');
    ok(await w.dave.post(`${byId}/pin`));
    // Pinned by its author, it is listed for them and moderators only.
    const pinned = async (who: typeof w.bob) =>
      ok(await who.get('/v1/channels/public:p/pinned')).messages.map((m: { id: string }) => m.id);
    expect(await pinned(w.dave)).toEqual([hidden.id]);
    expect(await pinned(w.bob)).toEqual([]);
    expect(await pinned(appmod)).toEqual([hidden.id]);
    // App moderators and admins see it, with its thread.
    for (const who of [appmod, appadmin]) {
      expect(ok(await who.get(byId)).message.text).toBe('shadowed, edited');
      expect(ok(await who.get(`${byId}/replies`)).messages.map((m: { text: string }) => m.text)).toEqual(['my reply']);
      ok(await who.react(hidden.id));
    }
    ok(await appmod.send('public:p', 'a moderator replies', { parent_id: hidden.id }));
    ok(await w.server.get(byId));
  });
});

describe('flags and the moderation queue', () => {
  it('a report goes to the queue and the moderators; review bans and removes; the reporter learns the outcome', async () => {
    const w = await room();
    const bob = await connect(url, w.app, 'bob');
    const mod = await connect(url2, w.app, 'appmod');
    const bad = ok(await w.dave.send('public:p', 'something awful')).message;
    expectError(await w.dave.post('/v1/moderation/flags', { message_id: bad.id, reason: 'me?' }), 'VALIDATION_ERROR');
    expectError(await w.bob.post('/v1/moderation/flags', { reason: 'nothing named' }), 'VALIDATION_ERROR');
    const flag = ok(await w.bob.post('/v1/moderation/flags', { message_id: bad.id, reason: 'abusive' })).flag;
    expect(flag).toMatchObject({
      message_id: bad.id,
      cid: 'public:p',
      user_id: 'dave',
      reported_by: 'bob',
      reason: 'abusive',
      text: 'something awful',
      status: 'open',
    });
    // Again: the same open report, not a second one.
    expect(ok(await w.bob.post('/v1/moderation/flags', { message_id: bad.id, reason: 'again' })).flag.id).toBe(flag.id);
    const carolFlag = ok(await w.carol.post('/v1/moderation/flags', { message_id: bad.id, reason: 'me too' })).flag;
    await mod.waitFor((f) => f.type === 'flag.new' && f.flag.id === flag.id, 20_000);
    // A message of a private channel the reporter cannot read: 404.
    ok(await w.alice.create({ type: 'group', id: 'secret', members: ['dave'] }));
    const hidden = ok(await w.dave.send('group:secret', 'hidden')).message;
    expectError(await w.erin.post('/v1/moderation/flags', { message_id: hidden.id, reason: 'x' }), 'NOT_FOUND');

    expectError(await w.bob.get('/v1/moderation/flags'), 'FORBIDDEN');
    const queue = ok(await w.as('appmod').get('/v1/moderation/flags')).flags.map((f: any) => f.id);
    expect(queue).toEqual([carolFlag.id, flag.id]);
    const d = await connect(url2, w.app, 'dave');
    const reviewed = ok(
      await w
        .as('appmod')
        .post(`/v1/moderation/flags/${flag.id}/review`, { action: 'ban', ban: { reason: 'abusive' } }),
    ).flag;
    expect(reviewed).toMatchObject({ status: 'banned', reviewed_by: 'appmod' });
    expect((await d.waitClose(20_000)).code).toBe(CLOSE_CODES.BANNED);
    const told = await bob.waitFor((f) => f.type === 'flag.reviewed' && f.flag.id === flag.id, 20_000);
    expect(told.flag.status).toBe('banned');
    const history = ok(await w.bob.history('public:p')).messages;
    expect(history.find((m: any) => m.id === bad.id)).toMatchObject({ type: 'deleted', text: '' });
    // Both reports of that message closed; the queue is empty; a second review is a conflict.
    expect(ok(await w.as('appmod').get('/v1/moderation/flags')).flags).toEqual([]);
    expect(ok(await w.as('appmod').get('/v1/moderation/flags?status=banned')).flags).toHaveLength(2);
    expectError(await w.as('appmod').post(`/v1/moderation/flags/${flag.id}/review`, { action: 'dismiss' }), 'CONFLICT');
    // One review, one ban: both in the audit log, and nothing for the refused second review.
    const trail = ok(await w.as('appadmin').get('/v1/audit?action=moderation.')).entries;
    expect(trail.map((e: any) => [e.action, e.actor.id, e.target.id])).toEqual([
      ['moderation.flag_reviewed', 'appmod', 'dave'],
      ['moderation.ban', 'appmod', 'dave'],
    ]);
    expect(trail[0].details).toMatchObject({ flag_id: flag.id, action: 'ban', cid: 'public:p' });
  });

  it('reports of users; dismiss and remove; the queue pages', async () => {
    const w = await room();
    const u = ok(await w.bob.post('/v1/moderation/flags', { user_id: 'dave', reason: 'creepy DMs' })).flag;
    expect(u).toMatchObject({ message_id: null, user_id: 'dave', status: 'open' });
    expectError(await w.bob.post('/v1/moderation/flags', { user_id: 'nobody', reason: 'x' }), 'NOT_FOUND');
    const ids: string[] = [u.id];
    for (let i = 0; i < 4; i++) {
      const m = ok(await w.dave.send('public:p', `m${i}`)).message;
      ids.unshift(ok(await w.bob.post('/v1/moderation/flags', { message_id: m.id, reason: `r${i}` })).flag.id);
    }
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = ok(await w.as('appadmin').get(`/v1/moderation/flags?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      seen.push(...page.flags.map((f: any) => f.id));
      if (!page.next) break;
      cursor = page.next;
    }
    expect(seen).toEqual(ids);
    expectError(await w.as('appadmin').get('/v1/moderation/flags?cursor=garbage'), 'VALIDATION_ERROR');
    ok(await w.server.post(`/v1/moderation/flags/${u.id}/review`, { action: 'dismiss' }));
    const removed = ok(await w.as('appadmin').post(`/v1/moderation/flags/${ids[0]}/review`, { action: 'remove' })).flag;
    expect(removed.status).toBe('removed');
    ok(await w.dave.send('public:p', 'dave is not banned by a removal'));
  });
});

describe('automod', () => {
  const settings = {
    blocked_words: ['darn', 'heck'],
    blocked_patterns: ['(a+)+$', 'buy\\s+now'],
    blocked_domains: ['evil.example'],
    action: 'block',
    spam_channels: 3,
    spam_window_s: 60,
    max_mentions: 3,
  };

  it('blocks words, patterns (the catastrophic one too), domains, mention floods and spam before anything is stored', async () => {
    const w = await room();
    const asBob = await h.call({
      method: 'PUT',
      url: '/v1/moderation/automod',
      headers: await w.app.user('bob'),
      payload: settings,
    });
    expectError(asBob, 'FORBIDDEN');
    const put = await h.call({
      method: 'PUT',
      url: '/v1/moderation/automod',
      headers: await w.app.server(),
      payload: settings,
    });
    expect(ok(put).automod).toEqual(settings);
    const blocked = async (text: string, rule: string) => {
      const r = await w.bob.send('public:p', text);
      expectError(r, 'MESSAGE_BLOCKED');
      expect(r.body.error.details.rule).toBe(rule);
    };
    await blocked('well DARN it', 'word');
    ok(await w.bob.send('public:p', 'darning socks is fine'));
    await blocked('BUY   now!!', 'pattern');
    // (a+)+$ on "aaaa…!" backtracks for ages: the guard stops it within its budget and the
    // message counts as matching (blocked), and the server keeps answering.
    await blocked(`${'a'.repeat(30)}!`, 'pattern');
    ok(await w.alice.send('public:p', 'still answering'));
    await blocked('see https://www.evil.example/x', 'domain');
    await blocked('or evil.example bare', 'domain');
    ok(await w.bob.send('public:p', 'notevil.example.org is another domain'));
    await blocked('@alice @bob @carol @dave look', 'mentions');
    // Spam: the same text a third time within the window, in any channels.
    ok(await w.alice.create({ type: 'public', id: 's1', members: ['bob'] }));
    ok(await w.alice.create({ type: 'public', id: 's2', members: ['bob'] }));
    ok(await w.bob.send('public:p', 'Join my server'));
    ok(await w.bob.send('public:s1', 'join my server'));
    await w.bob.send('public:s2', 'join my server').then((r) => {
      expectError(r, 'MESSAGE_BLOCKED');
      expect(r.body.error.details.rule).toBe('spam');
    });
    // Nothing blocked was stored.
    const texts = ok(await w.alice.history('public:p')).messages.map((m: any) => m.text);
    const refused = [
      'well DARN it',
      'BUY   now!!',
      `${'a'.repeat(30)}!`,
      'see https://www.evil.example/x',
      'or evil.example bare',
    ];
    expect(texts.filter((t: string) => refused.includes(t))).toEqual([]);
    expect(texts).toContain('notevil.example.org is another domain');
    // A pattern that does not compile is refused.
    const bad = await h.call({
      method: 'PUT',
      url: '/v1/moderation/automod',
      headers: await w.app.server(),
      payload: { ...settings, blocked_patterns: ['('] },
    });
    expectError(bad, 'VALIDATION_ERROR');
  });

  it('flag behaviour: the message is stored and filed in the queue by automod', async () => {
    const w = await room();
    ok(
      await h.call({
        method: 'PUT',
        url: '/v1/moderation/automod',
        headers: await w.app.server(),
        payload: { ...settings, action: 'flag' },
      }),
    );
    const m = ok(await w.bob.send('public:p', 'oh heck')).message;
    const queue = ok(await w.as('appmod').get('/v1/moderation/flags')).flags;
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({ message_id: m.id, user_id: 'bob', reported_by: null, text: 'oh heck' });
    expect(queue[0].reason).toMatch(/^automod: word/);
  });
});

describe('rate limits on everything', () => {
  it('reactions, typing, channel creation, searches and connections each say which limit and when to retry', async () => {
    const limits = structuredClone(NO_LIMITS);
    limits.reactions.user = 2;
    limits.typing.user = 2;
    limits.channels.user = 2;
    limits.searches.user = 2;
    limits.connections.user = 2;
    limits.flags.user = 1;
    const rl = await startHarness({ limits, masterKey: 'c'.repeat(64) }, { database: db.database });
    try {
      const base = await rl.listen();
      const w = await world(rl);
      ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
      ok(await w.alice.create({ type: 'public', id: 'p2' }));
      const third = await w.alice.create({ type: 'public', id: 'p3' });
      expectError(third, 'RATE_LIMITED');
      expect(third.body.error.details).toMatchObject({ limit: 'channels', scope: 'user' });
      // The server token is not counted.
      ok(await w.server.create({ type: 'public', id: 'p4', created_by: 'alice' }));
      const m = ok(await w.bob.send('public:p', 'hi')).message;
      ok(await w.alice.react(m.id, 'a'));
      ok(await w.alice.react(m.id, 'b'));
      const r = await w.alice.react(m.id, 'c');
      expectError(r, 'RATE_LIMITED');
      expect(r.body.error.details).toMatchObject({ limit: 'reactions', scope: 'user' });
      expect(r.body.error.details.retry_after_ms).toBeGreaterThan(0);
      ok(await w.bob.react(m.id, 'a')); // another user's own budget
      for (let i = 0; i < 2; i++) ok(await w.alice.get('/v1/search/messages?q=hi'));
      const s = await w.alice.get('/v1/search/messages?q=hi');
      expectError(s, 'RATE_LIMITED');
      expect(s.body.error.details.limit).toBe('searches');
      ok(await w.alice.post('/v1/moderation/flags', { message_id: m.id, reason: 'x' }));
      expect(
        (await w.alice.post('/v1/moderation/flags', { user_id: 'bob', reason: 'y' })).body.error.details.limit,
      ).toBe('flags');
      // Connections: the third socket of one user within the window closes with 4006 and a hint.
      const s1 = await TestSocket.connect(base, w.app, 'carol');
      const s2 = await TestSocket.connect(base, w.app, 'carol');
      sockets.push(s1, s2);
      const typing = [
        await s1.request('typing.start', { cid: 'public:p' }),
        await s1.request('typing.start', { cid: 'public:p' }),
        await s1.request('typing.start', { cid: 'public:p' }),
      ];
      // carol is not a member of public:p: typing is refused before it is counted.
      expect(typing.every((t) => t.ok === false && t.error.code === 'FORBIDDEN')).toBe(true);
      const s3 = await TestSocket.open(base, w.app.apiKey);
      sockets.push(s3);
      s3.sendRaw(JSON.stringify({ type: 'auth', token: await w.app.token('carol') }));
      const closed = await s3.waitClose(20_000);
      expect(closed.code).toBe(CLOSE_CODES.OVERLOADED);
      expect(closed.reason).toMatch(/retry_after_ms=\d+/);
      const b1 = await TestSocket.connect(base, w.app, 'bob');
      sockets.push(b1);
      expect((await b1.request('typing.start', { cid: 'public:p' })).ok).toBe(true);
      expect((await b1.request('typing.start', { cid: 'public:p' })).ok).toBe(true);
      const t3 = await b1.request('typing.start', { cid: 'public:p' });
      expect(t3.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'typing' } });
    } finally {
      await rl.close();
    }
  });

  it('PARLEY_LIMITS overrides budgets and refuses nonsense', async () => {
    const { parseLimits } = await import('../../src/platform/config.js');
    expect(parseLimits('{"reactions":{"user":5}}').reactions).toMatchObject({ user: 5, windowMs: 60_000 });
    expect(() => parseLimits('{"nope":{"user":5}}')).toThrow(/unknown limit/);
    expect(() => parseLimits('{"reactions":{"user":-1}}')).toThrow(/whole number/);
    expect(defaultConfig().limits.connections.user).toBeGreaterThan(0);
  });
});

/**
 * Polls over REST and the socket: making one, votes (single and multiple choice, replaced,
 * taken back), tallies exact under racing votes, anonymous polls that never name a voter
 * (answers, history, events, the event log), closing by the author, a moderator or the end time
 * (exactly once), votes refused after closing, permissions and bad input.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closePollAtEnd } from '../../src/features/polls/actions.js';
import { NO_LIMITS } from '../../src/platform/config.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { eventually, type Harness, startHarness } from '../harness.js';
import { type Received, type Receiver, startReceiver } from '../hooks/helpers.js';
import { expectError, expectWsError, makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;
let rcv: Receiver;
let n = 0;
const group = () => w.channel('alice', 'group', `p${n++}`, ['bob', 'carol', 'mod']);
const USERS = ['bob', 'carol', 'dave', ...Array.from({ length: 8 }, (_, i) => `v${i}`)];

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
  });
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'mod', role: 'moderator' }, ...USERS.map((id) => ({ id }))]);
});
afterEach(async () => {
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
  await rcv.close();
});

const poll = (cid: string, opts: Record<string, unknown> = {}, user = 'alice') =>
  w.rest(user, 'POST', `/v1/channels/${cid}/messages`, {
    text: 'Lunch?',
    poll: { options: ['Pizza', 'Sushi', 'Salad'], ...opts },
  });
const vote = (user: string, id: string, option_ids: string[]) =>
  w.rest(user, 'POST', `/v1/messages/${id}/poll/votes`, { option_ids });
const close = (user: string, id: string) => w.rest(user, 'POST', `/v1/messages/${id}/poll/close`);
const getAs = async (user: string, id: string) => (await w.rest(user, 'GET', `/v1/messages/${id}`)).body.message;
const counts = (p: any) => p.options.map((o: any) => o.vote_count);

describe('polls', () => {
  it('a poll is a message; votes replace, tallies and voters go live to the channel', async () => {
    const cid = await group();
    const carol = await w.socket('carol');
    const r = await poll(cid);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const m = r.body.message;
    expect(m.text).toBe('Lunch?');
    expect(m.poll).toMatchObject({ multiple: false, anonymous: false, closed_at: null, voter_count: 0, own_votes: [] });
    expect(m.poll.options.map((o: any) => [o.id, o.text])).toEqual([
      ['0', 'Pizza'],
      ['1', 'Sushi'],
      ['2', 'Salad'],
    ]);

    const v = await vote('bob', m.id, ['1']);
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    expect(v.body.poll.own_votes).toEqual(['1']);
    expect(counts(v.body.poll)).toEqual([0, 1, 0]);
    const ev = await carol.waitFor((f) => f.type === 'poll.updated');
    expect(ev).toMatchObject({ cid, message_id: m.id, poll: { voter_count: 1, own_votes: [] } });
    expect(ev.poll.options[1].voters).toEqual(['bob']);

    // A new choice replaces the old; the same again changes nothing and takes no seq.
    await vote('bob', m.id, ['2']);
    const seq = await w.lastSeq(cid);
    await vote('bob', m.id, ['2']);
    expect(await w.lastSeq(cid)).toBe(seq);
    await vote('carol', m.id, ['2']);
    const seen = await getAs('bob', m.id);
    expect(counts(seen.poll)).toEqual([0, 0, 2]);
    expect(seen.poll.own_votes).toEqual(['2']);
    expect((await getAs('alice', m.id)).poll.own_votes).toEqual([]);
    // History carries each caller's votes too.
    const hist = (await w.rest('carol', 'GET', `/v1/channels/${cid}/messages`)).body.messages;
    expect(hist.at(-1).poll.own_votes).toEqual(['2']);

    // Taking the vote back.
    const back = await w.rest('bob', 'DELETE', `/v1/messages/${m.id}/poll/votes`);
    expect(back.body.poll).toMatchObject({ own_votes: [], voter_count: 1 });
    expect(counts(back.body.poll)).toEqual([0, 0, 1]);

    // The event log replays the same changes (resync).
    const events = (await w.rest('carol', 'GET', `/v1/channels/${cid}/events?after=0`)).body.events;
    expect(events.filter((e: any) => e.type === 'poll.updated').length).toBe(4);
  });

  it('multiple choice takes several options; single choice exactly one', async () => {
    const cid = await group();
    const multi = (await poll(cid, { multiple: true })).body.message;
    const r = await vote('bob', multi.id, ['0', '2']);
    expect(r.body.poll.own_votes).toEqual(['0', '2']);
    expect(r.body.poll.voter_count).toBe(1);
    expect(counts(r.body.poll)).toEqual([1, 0, 1]);
    const single = (await poll(cid)).body.message;
    expectError(await vote('bob', single.id, ['0', '1']), 400, 'VALIDATION_ERROR');
  });

  it('bad input is refused with a typed error and writes nothing', async () => {
    const cid = await group();
    const bad = async (body: unknown) => {
      const before = await w.lastSeq(cid);
      const r = await w.rest('alice', 'POST', `/v1/channels/${cid}/messages`, body);
      expectError(r, 400, 'VALIDATION_ERROR');
      expect(await w.lastSeq(cid)).toBe(before);
    };
    await bad({ text: 'Q', poll: { options: ['only one'] } });
    await bad({ text: 'Q', poll: { options: Array.from({ length: 11 }, (_, i) => `o${i}`) } });
    await bad({ text: 'Q', poll: { options: ['a', 'A'] } });
    await bad({ text: 'Q', poll: { options: ['a', '   '] } });
    await bad({ text: 'Q', poll: { options: ['a', 'b'], ends_at: new Date(Date.now() - 1000).toISOString() } });
    await bad({ text: 'Q', poll: { options: ['a', 'b'], ends_at: 'tomorrow' } });
    await bad({ text: 'Q', poll: { options: ['a', 'b'], extra: 1 } });
    const m = (await poll(cid)).body.message;
    expectError(await vote('bob', m.id, ['7']), 400, 'VALIDATION_ERROR');
    expectError(await vote('bob', m.id, []), 400, 'VALIDATION_ERROR');
    expectError(await vote('bob', m.id, ['0', '0']), 400, 'VALIDATION_ERROR');
    // A poll in a thread, and a deleted poll: refused.
    await bad({ text: 'Q', parent_id: m.id, poll: { options: ['a', 'b'] } });
    const gone = (await poll(cid)).body.message;
    expect((await w.rest('alice', 'DELETE', `/v1/messages/${gone.id}`)).status).toBe(200);
    expectError(await vote('bob', gone.id, ['0']), 400, 'VALIDATION_ERROR');
    expect((await getAs('bob', gone.id)).poll).toBeUndefined();
    // Not a poll.
    const plain = await w.send('alice', cid, 'no poll here');
    expectError(await vote('bob', plain.id, ['0']), 400, 'VALIDATION_ERROR');
    // Unknown message, and one in another app: not found.
    expectError(await vote('bob', '0190a4b4-0000-7000-8000-000000000000', ['0']), 404, 'NOT_FOUND');
    const other = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
    expectError(
      await other.rest('bob', 'POST', `/v1/messages/${m.id}/poll/votes`, { option_ids: ['0'] }),
      404,
      'NOT_FOUND',
    );
    expectError(await other.rest('alice', 'POST', `/v1/messages/${m.id}/poll/close`), 404, 'NOT_FOUND');
  });

  it('racing votes leave exact tallies: the same user at once, and many users at once', async () => {
    const cid = await w.channel('alice', 'public', `race${n++}`, USERS);
    const m = (await poll(cid)).body.message;
    // The same user, many times at once: one vote stands.
    const same = await Promise.all(Array.from({ length: 6 }, (_, i) => vote('bob', m.id, [String(i % 3)])));
    for (const r of same) expect(r.status, JSON.stringify(r.body)).toBe(200);
    let p = (await getAs('alice', m.id)).poll;
    expect(p.voter_count).toBe(1);
    expect(counts(p).reduce((a: number, b: number) => a + b, 0)).toBe(1);
    // Everyone at once.
    const voters = USERS.filter((u) => u !== 'bob');
    const all = await Promise.all(voters.map((u, i) => vote(u, m.id, [String(i % 3)])));
    for (const r of all) expect(r.status, JSON.stringify(r.body)).toBe(200);
    p = (await getAs('alice', m.id)).poll;
    expect(p.voter_count).toBe(USERS.length);
    const expected = [0, 0, 0];
    voters.forEach((_, i) => {
      expected[i % 3] = (expected[i % 3] as number) + 1;
    });
    const bobs = (await getAs('bob', m.id)).poll.own_votes[0];
    expected[Number(bobs)] = (expected[Number(bobs)] as number) + 1;
    expect(counts(p)).toEqual(expected);
  });

  it('an anonymous poll never names a voter: answers, history, events, the log, webhooks', async () => {
    const hook = await w.rest(null, 'POST', '/v1/webhooks', { url: `${rcv.url}/polls`, events: ['poll.*'] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const cid = await group();
    const carol = await w.socket('carol');
    const alice = await w.socket('alice');
    const m = (await poll(cid, { anonymous: true })).body.message;
    const v = await vote('bob', m.id, ['0']);
    expect(v.body.poll.own_votes).toEqual(['0']);
    await vote('carol', m.id, ['0']);
    const ev = await carol.waitFor((f) => f.type === 'poll.updated' && f.poll.voter_count === 2);
    const evA = await alice.waitFor((f) => f.type === 'poll.updated' && f.poll.voter_count === 2);
    const texts = [
      JSON.stringify(ev),
      JSON.stringify(evA),
      JSON.stringify(await getAs('alice', m.id)),
      JSON.stringify((await w.rest('alice', 'GET', `/v1/channels/${cid}/messages`)).body),
      JSON.stringify((await w.rest('alice', 'GET', `/v1/channels/${cid}/events?after=0`)).body),
      JSON.stringify((await w.rest(null, 'GET', `/v1/messages/${m.id}`)).body),
      JSON.stringify((await close('alice', m.id)).body),
    ];
    // The webhook deliveries of the votes and the close (poll.updated), as the endpoint got them.
    const got = (await eventually(() => {
      const bodies = rcv.on('/polls').filter((r) => r.json?.event?.message_id === m.id);
      return bodies.length >= 3 ? bodies : null;
    }, 20_000)) as Received[];
    expect(got.map((r) => r.json.type)).toEqual(['poll.updated', 'poll.updated', 'poll.updated']);
    texts.push(...got.map((r) => r.body));
    for (const t of texts) {
      expect(t).not.toContain('"bob"');
      expect(t).not.toContain('"carol"');
    }
    expect(counts((await getAs('alice', m.id)).poll)).toEqual([2, 0, 0]);
  });

  it('the author or a moderator closes; results stay; votes after closing are refused', async () => {
    const cid = await group();
    const m = (await poll(cid)).body.message;
    await vote('bob', m.id, ['1']);
    expectError(await close('bob', m.id), 403, 'FORBIDDEN');
    const c = await close('alice', m.id);
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.poll).toMatchObject({ closed_by: 'alice' });
    expect(c.body.poll.closed_at).not.toBeNull();
    expectError(await vote('carol', m.id, ['0']), 409, 'POLL_CLOSED');
    expectError(await w.rest('bob', 'DELETE', `/v1/messages/${m.id}/poll/votes`), 409, 'POLL_CLOSED');
    expect(counts((await getAs('carol', m.id)).poll)).toEqual([0, 1, 0]);
    // Closing again changes nothing.
    const seq = await w.lastSeq(cid);
    expect((await close('alice', m.id)).status).toBe(200);
    expect(await w.lastSeq(cid)).toBe(seq);

    const m2 = (await poll(cid)).body.message;
    const byMod = await close('mod', m2.id);
    expect(byMod.body.poll.closed_by).toBe('mod');
  });

  it('closes by itself at its end time, through the job queue, exactly once', async () => {
    const cid = await group();
    const carol = await w.socket('carol');
    const endsAt = new Date(Date.now() + 1500).toISOString();
    const m = (await poll(cid, { ends_at: endsAt })).body.message;
    expect(m.poll.ends_at).toBe(endsAt);
    await vote('bob', m.id, ['0']);
    const closed = await eventually(
      async () => {
        const p = (await getAs('carol', m.id)).poll;
        return p.closed_at ? p : null;
      },
      30_000,
      200,
    );
    expect(closed.closed_by).toBeNull();
    expect(closed.closed_at).toBe(endsAt);
    expectError(await vote('carol', m.id, ['1']), 409, 'POLL_CLOSED');
    // The job run again (a retry, a second node) closes nothing more and logs nothing.
    const seq = await w.lastSeq(cid);
    await closePollAtEnd(h.server.svc, w.app.id, m.id);
    expect(await w.lastSeq(cid)).toBe(seq);
    const closes = (await w.rest('carol', 'GET', `/v1/channels/${cid}/events?after=0`)).body.events.filter(
      (e: any) => e.type === 'poll.updated' && e.poll.closed_at,
    );
    expect(closes.length).toBe(1);
    await carol.waitFor((f) => f.type === 'poll.updated' && f.poll.closed_at !== null);
  });

  it('permissions: create-poll and vote-poll per channel type; non-members neither', async () => {
    const ann = await w.channel('alice', 'announcement', `ann${n++}`, ['bob']);
    // Announcement channels: members may not start polls, but may vote.
    expectError(await poll(ann, {}, 'bob'), 403, 'FORBIDDEN');
    const m = (await poll(ann)).body.message;
    expect((await vote('bob', m.id, ['0'])).status).toBe(200);
    // A public channel's non-member reads but may not vote.
    const pub = await w.channel('alice', 'public', `pub${n++}`, []);
    const pm = (await poll(pub)).body.message;
    expectError(await vote('dave', pm.id, ['0']), 403, 'FORBIDDEN');
    // The channel's capabilities name both.
    const ch = (await w.rest('bob', 'GET', `/v1/channels/${ann}`)).body.channel;
    expect(ch.own_capabilities).toContain('vote-poll');
    expect(ch.own_capabilities).not.toContain('create-poll');
  });

  // Starts a server of its own inside the test: the hook's time, not the 30 s default.
  it('votes count against the reactions rate limit', { timeout: 120_000 }, async () => {
    const limits = structuredClone(NO_LIMITS);
    limits.reactions.user = 2;
    const rl = await startHarness({ limits });
    try {
      const rw = await makeWorld(rl, [{ id: 'alice' }, { id: 'bob' }]);
      const cid = await rw.channel('alice', 'group', 'rl', ['bob']);
      const m = await rw.send('alice', cid, { text: 'Q', poll: { options: ['a', 'b'] } });
      const v = (o: string) => rw.rest('bob', 'POST', `/v1/messages/${m.id}/poll/votes`, { option_ids: [o] });
      expect((await v('0')).status).toBe(200);
      expect((await v('1')).status).toBe(200);
      const third = await v('0');
      expectError(third, 429, 'RATE_LIMITED');
      expect(third.body.error.details).toMatchObject({ limit: 'reactions', scope: 'user' });
    } finally {
      await rl.close();
    }
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await h.call({ method: 'GET', url: '/v1/openapi.json' })).body;
    for (const p of [
      '/v1/messages/{id}/poll/votes',
      '/v1/messages/{id}/poll/close',
      '/v1/emoji',
      '/v1/emoji/{shortcode}',
    ])
      expect(Object.keys(doc.paths), p).toContain(p);
  });

  it('socket: poll.vote, poll.unvote and poll.close share the REST actions', async () => {
    const cid = await group();
    const m = (await poll(cid)).body.message;
    const bob = await w.socket('bob');
    const r = await bob.request('poll.vote', { message_id: m.id, option_ids: ['2'] });
    expect(r.ok).toBe(true);
    expect(r.poll.own_votes).toEqual(['2']);
    const u = await bob.request('poll.unvote', { message_id: m.id });
    expect(u.poll.voter_count).toBe(0);
    expectWsError(await bob.request('poll.close', { message_id: m.id }), 'FORBIDDEN');
    expectWsError(await bob.request('poll.vote', { message_id: m.id, option_ids: 'x' }), 'VALIDATION_ERROR');
  });
});

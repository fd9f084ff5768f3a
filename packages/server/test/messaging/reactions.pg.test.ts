/** Reactions over REST and WebSocket: one per user and type, counts, own and latest reactions, limits. */
import { MAX_REACTION_TYPES } from '@parley/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { expectError, expectWsError, makeWorld, sleep, type World } from './world.js';

let h: Harness;
let w: World;
let n = 0;
const group = () => w.channel('alice', 'group', `r${n++}`, ['bob', 'carol']);

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }, { id: 'dave' }]);
});
afterEach(async () => {
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
});

const react = (user: string, id: string, type: string) =>
  w.rest(user, 'POST', `/v1/messages/${id}/reactions`, { type });
const unreact = (user: string, id: string, type: string) =>
  w.rest(user, 'DELETE', `/v1/messages/${id}/reactions/${encodeURIComponent(type)}`);
const getAs = async (user: string, id: string) => (await w.rest(user, 'GET', `/v1/messages/${id}`)).body.message;

describe('reactions', () => {
  it('REST add: counts by type, own_reactions per caller, latest_reactions, one event per change', async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'react to me');
    const carol = await w.socket('carol');
    const r = await react('alice', m.id, 'like');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.reaction).toMatchObject({ type: 'like', user_id: 'alice' });
    expect(r.body.message).toMatchObject({ id: m.id, reactions: { like: 1 }, own_reactions: ['like'] });
    expect(r.body.message.latest_reactions).toMatchObject([{ type: 'like', user_id: 'alice' }]);
    const ev = await carol.waitFor((f) => f.type === 'reaction.new');
    expect(ev).toMatchObject({
      cid,
      seq: 2,
      reaction: { type: 'like', user_id: 'alice' },
      message: { id: m.id, reactions: { like: 1 }, own_reactions: [] },
    });

    // The same reaction again changes nothing and takes no seq.
    const again = await react('alice', m.id, 'like');
    expect(again.status).toBe(200);
    expect(again.body.message).toMatchObject({ reactions: { like: 1 }, own_reactions: ['like'] });
    expect(await w.lastSeq(cid)).toBe(2);

    // Apart by a few ms, so newest-first order is well defined at millisecond precision.
    await sleep(5);
    await react('bob', m.id, 'like');
    await sleep(5); // apart by a few ms, as above
    await react('bob', m.id, 'heart');
    expect(await getAs('alice', m.id)).toMatchObject({ reactions: { like: 2, heart: 1 }, own_reactions: ['like'] });
    expect(await getAs('bob', m.id)).toMatchObject({
      reactions: { like: 2, heart: 1 },
      own_reactions: ['like', 'heart'],
    });
    expect(await getAs('carol', m.id)).toMatchObject({ own_reactions: [] });
    const latest = (await getAs('carol', m.id)).latest_reactions.map((x: any) => `${x.user_id}:${x.type}`);
    expect(latest).toEqual(['bob:heart', 'bob:like', 'alice:like']);
    // History carries the same per-caller view.
    const hist = (await w.rest('bob', 'GET', `/v1/channels/${cid}/messages`)).body.messages;
    expect(hist[0]).toMatchObject({ reactions: { like: 2, heart: 1 }, own_reactions: ['like', 'heart'] });
    expect(await w.lastSeq(cid)).toBe(4);
    // Events travel on the socket, not with the REST answers: wait for the last, then check all.
    await carol.waitFor((f) => f.type === 'reaction.new' && f.seq === 4);
    expect(carol.events('reaction.new').map((f) => f.seq)).toEqual([2, 3, 4]);
  });

  it('REST remove: decrements, drops a type at zero; removing what you do not have takes no seq', async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'm');
    await react('alice', m.id, 'like');
    await react('bob', m.id, 'like');
    const carol = await w.socket('carol');
    const r = await unreact('alice', m.id, 'like');
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ reactions: { like: 1 }, own_reactions: [] });
    const ev = await carol.waitFor((f) => f.type === 'reaction.deleted');
    expect(ev).toMatchObject({
      seq: 4,
      reaction: { type: 'like', user_id: 'alice' },
      message: { reactions: { like: 1 } },
    });
    const seq = await w.lastSeq(cid);
    expect((await unreact('alice', m.id, 'like')).status).toBe(200);
    expect((await unreact('carol', m.id, 'nope')).status).toBe(200);
    expect(await w.lastSeq(cid)).toBe(seq);
    await unreact('bob', m.id, 'like');
    expect(await getAs('bob', m.id)).toMatchObject({ reactions: {}, own_reactions: [], latest_reactions: [] });
  });

  it('WS reaction.add and reaction.remove (reaction:{type} or reaction_type)', async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'ws');
    const [bob, carol] = [await w.socket('bob'), await w.socket('carol')];
    const a1 = await bob.request('reaction.add', { message_id: m.id, reaction: { type: 'fire' } });
    expect(a1).toMatchObject({
      ok: true,
      reaction: { type: 'fire', user_id: 'bob' },
      message: { reactions: { fire: 1 }, own_reactions: ['fire'] },
    });
    const a2 = await bob.request('reaction.add', { message_id: m.id, reaction: { type: 'fire' } });
    expect(a2.message).toMatchObject({ reactions: { fire: 1 }, own_reactions: ['fire'] });
    await bob.request('reaction.add', { message_id: m.id, reaction: { type: 'tada' } });
    const r1 = await bob.request('reaction.remove', { message_id: m.id, reaction: { type: 'fire' } });
    expect(r1).toMatchObject({ ok: true, message: { reactions: { tada: 1 }, own_reactions: ['tada'] } });
    const r2 = await bob.request('reaction.remove', { message_id: m.id, reaction_type: 'tada' });
    expect(r2).toMatchObject({ ok: true, message: { reactions: {}, own_reactions: [] } });
    expectWsError(await bob.request('reaction.remove', { message_id: m.id }), 'VALIDATION_ERROR');
    expectWsError(
      await bob.request('reaction.add', { message_id: m.id, reaction: { type: 'bad type!' } }),
      'VALIDATION_ERROR',
    );
    expect(await w.lastSeq(cid)).toBe(5);
    await carol.waitFor((f) => f.seq === 5);
    expect(
      carol
        .events()
        .filter((f) => f.seq > 1)
        .map((f) => `${f.type}:${f.reaction.type}`),
    ).toEqual(['reaction.new:fire', 'reaction.new:tada', 'reaction.deleted:fire', 'reaction.deleted:tada']);
  });

  it(`at most ${MAX_REACTION_TYPES} distinct types per message; the next is 400 and stores nothing`, async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'many');
    for (let i = 0; i < MAX_REACTION_TYPES; i++) {
      const r = await react(i % 2 ? 'bob' : 'carol', m.id, `t${i}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const seq = await w.lastSeq(cid);
    expectError(await react('alice', m.id, 'one-too-many'), 400, 'VALIDATION_ERROR');
    const bob = await w.socket('bob');
    expectWsError(
      await bob.request('reaction.add', { message_id: m.id, reaction: { type: 'ws-too-many' } }),
      'VALIDATION_ERROR',
    );
    expect(await w.lastSeq(cid)).toBe(seq);
    const got = await getAs('alice', m.id);
    expect(Object.keys(got.reactions)).toHaveLength(MAX_REACTION_TYPES);
    expect(got.own_reactions).toEqual([]);
    // An existing type still takes more users.
    expect((await react('alice', m.id, 't0')).body.message.reactions.t0).toBe(2);
    // latest_reactions keeps the newest few only.
    expect(got.latest_reactions).toHaveLength(10);
    expect(got.latest_reactions.map((x: any) => x.type)).toContain(`t${MAX_REACTION_TYPES - 1}`);
  });

  it('non-members: 403 in a public channel, 404 in a group; bad type 400; unknown message 404', async () => {
    const pub = await w.channel('alice', 'public', `rp${n++}`, ['bob']);
    const grp = await group();
    const mp = await w.send('alice', pub, 'p');
    const mg = await w.send('alice', grp, 'g');
    expectError(await react('dave', mp.id, 'like'), 403, 'FORBIDDEN');
    expectError(await unreact('dave', mp.id, 'like'), 403, 'FORBIDDEN');
    expectError(await react('dave', mg.id, 'like'), 404, 'NOT_FOUND');
    expectError(await react('bob', mg.id, 'no spaces'), 400, 'VALIDATION_ERROR');
    expectError(await react('bob', mg.id, 'x'.repeat(33)), 400, 'VALIDATION_ERROR');
    expectError(await react('bob', '0190a0a0-0000-7000-8000-000000000000', 'like'), 404, 'NOT_FOUND');
    expectError(await w.rest(null, 'POST', `/v1/messages/${mg.id}/reactions`, { type: 'like' }), 403, 'FORBIDDEN');
    const dave = await w.socket('dave');
    expectWsError(await dave.request('reaction.add', { message_id: mp.id, reaction: { type: 'like' } }), 'FORBIDDEN');
    expectWsError(await dave.request('reaction.add', { message_id: mg.id, reaction: { type: 'like' } }), 'NOT_FOUND');
    expect(await w.lastSeq(pub)).toBe(1);
    expect(await w.lastSeq(grp)).toBe(1);
  });

  it('a reaction type "null" (any case) is counted like any other, not a 500 (a JSON path read as SQL NULL)', async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'null reactions');
    for (const type of ['null', 'NULL', 'Null']) expect((await react('alice', m.id, type)).status).toBe(200);
    expect((await react('bob', m.id, 'null')).status).toBe(200);
    expect(await getAs('alice', m.id)).toMatchObject({ reactions: { null: 2, NULL: 1, Null: 1 } });
    const bob = await w.socket('bob');
    const added = await bob.request('reaction.add', { message_id: m.id, reaction: { type: 'NuLl' } });
    expect(added.ok, JSON.stringify(added)).toBe(true);
    const removed = await bob.request('reaction.remove', { message_id: m.id, reaction_type: 'null' });
    expect(removed.ok, JSON.stringify(removed)).toBe(true);
    expect((await unreact('alice', m.id, 'NULL')).status).toBe(200);
    expect(await getAs('alice', m.id)).toMatchObject({ reactions: { null: 1, Null: 1, NuLl: 1 } });
  });
});

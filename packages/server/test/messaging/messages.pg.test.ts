/**
 * Messages over REST and WebSocket: send (idempotent by client id), validation and access,
 * edit with versions, soft delete, threads, quotes, pins and mentions.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { expectError, expectWsError, makeWorld, newId, type World } from './world.js';

let h: Harness;
let w: World;
let n = 0;
/** A fresh group channel (seq 0) owned by alice. */
const group = (members = ['bob', 'carol']) => w.channel('alice', 'group', `g${n++}`, members);

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [
    { id: 'alice' },
    { id: 'bob' },
    { id: 'carol' },
    { id: 'dave' },
    { id: 'zed' },
    { id: 'mod', role: 'moderator' },
  ]);
});
afterEach(async () => {
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
});

const isIso = (s: unknown) => typeof s === 'string' && !Number.isNaN(Date.parse(s)) && s.endsWith('Z');

describe('send', () => {
  it('REST send returns the stored message with seq, created_at and user, and fans it out', async () => {
    const cid = await group();
    const bob = await w.socket('bob');
    const id = newId();
    const before = Date.now();
    const m = await w.send('alice', cid, { id, text: 'hello' });
    expect(m).toMatchObject({
      id,
      cid,
      seq: 1,
      user_id: 'alice',
      type: 'regular',
      text: 'hello',
      parent_id: null,
      reply_count: 0,
      quoted_message_id: null,
      reactions: {},
      own_reactions: [],
      mentioned_users: [],
      edited_at: null,
      deleted_at: null,
      user: { id: 'alice', name: 'alice', username: 'alice' },
    });
    expect(isIso(m.created_at)).toBe(true);
    expect(Date.parse(m.created_at)).toBeGreaterThanOrEqual(before - 1000);
    const ev = await bob.waitFor((f) => f.type === 'message.new' && f.message.id === id);
    expect(ev).toMatchObject({ cid, seq: 1, message: { id, seq: 1, text: 'hello', user: { id: 'alice' } } });
    const got = await w.rest('bob', 'GET', `/v1/messages/${id}`);
    expect(got.body.message).toMatchObject({ id, seq: 1, text: 'hello', created_at: m.created_at });
    expect(await w.lastSeq(cid)).toBe(1);
  });

  it('WS message.send replies with the stored message and fans it out', async () => {
    const cid = await group();
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    const id = newId();
    const r = await alice.request('message.send', { cid, message: { id, text: 'via ws' } });
    expect(r).toMatchObject({
      ok: true,
      message: { id, cid, seq: 1, user_id: 'alice', text: 'via ws', type: 'regular' },
    });
    expect(r.message.user).toMatchObject({ id: 'alice' });
    expect(isIso(r.message.created_at)).toBe(true);
    const ev = await bob.waitFor((f) => f.type === 'message.new' && f.message.id === id);
    expect(ev.seq).toBe(1);
    // The sender's own socket gets the event too (other tabs), exactly once.
    await alice.waitFor((f) => f.type === 'message.new' && f.message.id === id);
  });

  it('the same client id again returns the same message and takes no seq (REST, WS, and across them)', async () => {
    const cid = await group();
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    const id = newId();
    const first = await w.send('alice', cid, { id, text: 'once' });
    const again = await w.send('alice', cid, { id, text: 'once' });
    expect(again).toMatchObject({ id, seq: first.seq, created_at: first.created_at, text: 'once' });
    // A retry with different text still answers the stored message.
    const changed = await w.send('alice', cid, { id, text: 'changed' });
    expect(changed).toMatchObject({ id, seq: first.seq, text: 'once' });
    const ws = await alice.request('message.send', { cid, message: { id, text: 'once' } });
    expect(ws).toMatchObject({ ok: true, message: { id, seq: first.seq, created_at: first.created_at } });

    const id2 = newId();
    const w1 = await alice.request('message.send', { cid, message: { id: id2, text: 'twice' } });
    const w2 = await alice.request('message.send', { cid, message: { id: id2, text: 'twice' } });
    expect(w2.message).toMatchObject({ id: id2, seq: w1.message.seq, created_at: w1.message.created_at });
    const rest = await w.send('alice', cid, { id: id2, text: 'twice' });
    expect(rest.seq).toBe(w1.message.seq);

    expect(await w.lastSeq(cid)).toBe(2);
    const hist = await w.rest('bob', 'GET', `/v1/channels/${cid}/messages`);
    expect(hist.body.messages.map((m: any) => m.id)).toEqual([id, id2]);
    // One event each on other sockets: a marker after the retries proves they produced nothing.
    const marker = await w.send('carol', cid, 'marker');
    await bob.waitFor((f) => f.type === 'message.new' && f.message.id === marker.id);
    expect(bob.events('message.new').map((f) => f.seq)).toEqual([1, 2, 3]);
  });

  it('an id reused in another channel or by another user is 409 CONFLICT and takes no seq', async () => {
    const a = await group();
    const b = await group();
    const id = newId();
    await w.send('alice', a, { id, text: 'mine' });
    expectError(await w.rest('alice', 'POST', `/v1/channels/${b}/messages`, { id, text: 'mine' }), 409, 'CONFLICT');
    expectError(await w.rest('bob', 'POST', `/v1/channels/${a}/messages`, { id, text: 'mine' }), 409, 'CONFLICT');
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    expectWsError(await alice.request('message.send', { cid: b, message: { id, text: 'mine' } }), 'CONFLICT');
    expectWsError(await bob.request('message.send', { cid: a, message: { id, text: 'mine' } }), 'CONFLICT');
    expect(await w.lastSeq(a)).toBe(1);
    expect(await w.lastSeq(b)).toBe(0);
    const got = await w.rest('alice', 'GET', `/v1/messages/${id}`);
    expect(got.body.message).toMatchObject({ cid: a, user_id: 'alice', text: 'mine' });
  });

  it('rejects empty, blank and over-long text (400) and accepts exactly 10,000 characters', async () => {
    const cid = await group();
    const url = `/v1/channels/${cid}/messages`;
    for (const text of ['', '   ', ' \n\t ', 'x'.repeat(10_001)])
      expectError(await w.rest('alice', 'POST', url, { text }), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('alice', 'POST', url, {}), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('alice', 'POST', url, { text: 'ok', id: 'not-a-uuid' }), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('alice', 'POST', url, { text: 'ok', extra: 1 }), 400, 'VALIDATION_ERROR');
    const alice = await w.socket('alice');
    for (const text of ['', '  \n ', 'y'.repeat(10_001)])
      expectWsError(await alice.request('message.send', { cid, message: { text } }), 'VALIDATION_ERROR');
    expect(await w.lastSeq(cid)).toBe(0);
    const max = await w.send('alice', cid, { text: 'z'.repeat(10_000) });
    expect(max.text.length).toBe(10_000);
    expect(await w.lastSeq(cid)).toBe(1);
  });

  it('a non-member gets 403 in a public channel and 404 in a group (REST and WS)', async () => {
    const pub = await w.channel('alice', 'public', `pub${n++}`, ['bob']);
    const grp = await group();
    expectError(await w.rest('dave', 'POST', `/v1/channels/${pub}/messages`, { text: 'hi' }), 403, 'FORBIDDEN');
    expectError(await w.rest('dave', 'POST', `/v1/channels/${grp}/messages`, { text: 'hi' }), 404, 'NOT_FOUND');
    expectError(await w.rest('dave', 'POST', '/v1/channels/group:nope/messages', { text: 'hi' }), 404, 'NOT_FOUND');
    // Messages are written as a user, never with the server token.
    expectError(await w.rest(null, 'POST', `/v1/channels/${grp}/messages`, { text: 'hi' }), 403, 'FORBIDDEN');
    const dave = await w.socket('dave');
    expectWsError(await dave.request('message.send', { cid: pub, message: { text: 'hi' } }), 'FORBIDDEN');
    expectWsError(await dave.request('message.send', { cid: grp, message: { text: 'hi' } }), 'NOT_FOUND');
    expect(await w.lastSeq(pub)).toBe(0);
    expect(await w.lastSeq(grp)).toBe(0);
  });
});

describe('edit', () => {
  it('only the author edits; edited_at is set and earlier versions are kept (REST and WS)', async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'first');
    const [alice, bob] = [await w.socket('alice'), await w.socket('bob')];
    const r = await w.rest('alice', 'PATCH', `/v1/messages/${m.id}`, { text: 'second' });
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ id: m.id, seq: m.seq, text: 'second', created_at: m.created_at });
    expect(isIso(r.body.message.edited_at)).toBe(true);
    const ev = await bob.waitFor((f) => f.type === 'message.updated' && f.message.text === 'second');
    expect(ev).toMatchObject({ cid, seq: 2, message: { id: m.id, seq: m.seq } });

    const ws = await alice.request('message.update', { message: { id: m.id, text: 'third' } });
    expect(ws).toMatchObject({ ok: true, message: { id: m.id, text: 'third' } });
    expect(Date.parse(ws.message.edited_at)).toBeGreaterThanOrEqual(Date.parse(r.body.message.edited_at));

    const v = await w.rest('bob', 'GET', `/v1/messages/${m.id}/versions`);
    expect(v.status).toBe(200);
    expect(v.body.versions).toEqual([
      { version: 1, text: 'first', created_at: m.created_at },
      { version: 2, text: 'second', created_at: r.body.message.edited_at },
    ]);

    // Others may not edit.
    expectError(await w.rest('bob', 'PATCH', `/v1/messages/${m.id}`, { text: 'hijack' }), 403, 'FORBIDDEN');
    expectWsError(await bob.request('message.update', { message: { id: m.id, text: 'hijack' } }), 'FORBIDDEN');
    expectError(await w.rest('dave', 'PATCH', `/v1/messages/${m.id}`, { text: 'x' }), 404, 'NOT_FOUND');
    expectError(await w.rest('dave', 'GET', `/v1/messages/${m.id}/versions`), 404, 'NOT_FOUND');
    expectError(await w.rest('alice', 'PATCH', `/v1/messages/${m.id}`, { text: '  ' }), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('alice', 'PATCH', `/v1/messages/${newId()}`, { text: 'x' }), 404, 'NOT_FOUND');
    expect(await w.lastSeq(cid)).toBe(3);

    // The same text again changes nothing: no seq, no version.
    const same = await w.rest('alice', 'PATCH', `/v1/messages/${m.id}`, { text: 'third' });
    expect(same.body.message.text).toBe('third');
    expect(await w.lastSeq(cid)).toBe(3);
    expect((await w.rest('alice', 'GET', `/v1/messages/${m.id}/versions`)).body.versions).toHaveLength(2);
  });

  it('an edit that adds a mention notifies only the newly mentioned', async () => {
    const cid = await group();
    const m = await w.send('alice', cid, 'hi @bob');
    const [bob, carol] = [await w.socket('bob'), await w.socket('carol')];
    const r = await w.rest('alice', 'PATCH', `/v1/messages/${m.id}`, { text: 'hi @bob and @carol' });
    expect(r.body.message.mentioned_users.sort()).toEqual(['bob', 'carol']);
    await carol.waitFor((f) => f.type === 'notification.new' && f.message.id === m.id);
    await bob.waitFor((f) => f.type === 'message.updated' && f.message.id === m.id);
    expect(bob.events('notification.new')).toHaveLength(0);
  });
});

describe('soft delete', () => {
  it('the author deletes: type deleted, text empty, seq kept, still in history; others get 403', async () => {
    const cid = await group();
    const m = await w.send('bob', cid, 'oops');
    await w.rest('carol', 'POST', `/v1/messages/${m.id}/reactions`, { type: 'like' });
    await w.rest('bob', 'PATCH', `/v1/messages/${m.id}`, { text: 'oops!' });
    const alice = await w.socket('alice');
    const carol = await w.socket('carol');
    expectError(await w.rest('carol', 'DELETE', `/v1/messages/${m.id}`), 403, 'FORBIDDEN');
    expectWsError(await carol.request('message.delete', { message_id: m.id }), 'FORBIDDEN');
    expectError(await w.rest('dave', 'DELETE', `/v1/messages/${m.id}`), 404, 'NOT_FOUND');
    const seqBefore = await w.lastSeq(cid);

    const r = await w.rest('bob', 'DELETE', `/v1/messages/${m.id}`);
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ id: m.id, seq: m.seq, type: 'deleted', text: '', reactions: {} });
    expect(isIso(r.body.message.deleted_at)).toBe(true);
    const ev = await alice.waitFor((f) => f.type === 'message.deleted' && f.message.id === m.id);
    expect(ev.seq).toBe(seqBefore + 1);

    const hist = await w.rest('alice', 'GET', `/v1/channels/${cid}/messages`);
    expect(hist.body.messages.find((x: any) => x.id === m.id)).toMatchObject({ seq: m.seq, type: 'deleted', text: '' });
    expect((await w.rest('alice', 'GET', `/v1/messages/${m.id}/versions`)).body.versions).toEqual([]);

    // A second delete changes nothing and takes no seq.
    const again = await w.rest('bob', 'DELETE', `/v1/messages/${m.id}`);
    expect(again.status).toBe(200);
    expect(again.body.message.type).toBe('deleted');
    expect(await w.lastSeq(cid)).toBe(seqBefore + 1);

    // A deleted message cannot be edited, reacted to, pinned or replied to.
    expectError(await w.rest('bob', 'PATCH', `/v1/messages/${m.id}`, { text: 'back' }), 403, 'FORBIDDEN');
    expectError(await w.rest('bob', 'POST', `/v1/messages/${m.id}/reactions`, { type: 'like' }), 403, 'FORBIDDEN');
    expectError(await w.rest('bob', 'POST', `/v1/messages/${m.id}/pin`), 403, 'FORBIDDEN');
    expectError(
      await w.rest('bob', 'POST', `/v1/channels/${cid}/messages`, { text: 'r', parent_id: m.id }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('channel moderators, app moderators and the WS author may delete', async () => {
    const cid = await group();
    const [m1, m2, m3] = [
      await w.send('bob', cid, 'one'),
      await w.send('bob', cid, 'two'),
      await w.send('carol', cid, 'c'),
    ];
    // carol becomes a channel moderator.
    const role = await w.rest('alice', 'PATCH', `/v1/channels/${cid}/members/carol`, { role: 'moderator' });
    expect(role.status, JSON.stringify(role.body)).toBe(200);
    const carol = await w.socket('carol');
    const d1 = await carol.request('message.delete', { message_id: m1.id });
    expect(d1).toMatchObject({ ok: true, message: { id: m1.id, type: 'deleted' } });
    // mod is an app moderator and not a member of this group.
    const d2 = await w.rest('mod', 'DELETE', `/v1/messages/${m2.id}`);
    expect(d2.status, JSON.stringify(d2.body)).toBe(200);
    expect(d2.body.message.type).toBe('deleted');
    const d3 = await carol.request('message.delete', { message_id: m3.id });
    expect(d3.message).toMatchObject({ id: m3.id, seq: m3.seq, type: 'deleted', text: '' });
    // A plain member cannot delete someone else's message.
    const m4 = await w.send('alice', cid, 'owner msg');
    expectError(await w.rest('bob', 'DELETE', `/v1/messages/${m4.id}`), 403, 'FORBIDDEN');
  });
});

describe('threads', () => {
  it('replies update the parent and are listed with before/after pagination', async () => {
    const cid = await group();
    const alice = await w.socket('alice');
    const parent = await w.send('alice', cid, 'parent');
    const r1 = await w.send('bob', cid, { text: 'r1', parent_id: parent.id });
    expect(r1).toMatchObject({ parent_id: parent.id, show_in_channel: false });
    const ev = await alice.waitFor((f) => f.type === 'message.new' && f.message.id === r1.id);
    expect(ev.parent).toMatchObject({ id: parent.id, reply_count: 1, thread_participants: ['alice', 'bob'] });
    const r2 = await w.send('carol', cid, { text: 'r2', parent_id: parent.id, show_in_channel: true });
    const r3 = await w.send('alice', cid, { text: 'r3', parent_id: parent.id });
    const p = (await w.rest('carol', 'GET', `/v1/messages/${parent.id}`)).body.message;
    expect(p).toMatchObject({
      reply_count: 3,
      last_reply_at: r3.created_at,
      thread_participants: ['alice', 'bob', 'carol'],
    });

    const more = [];
    for (let i = 4; i <= 8; i++) more.push(await w.send('bob', cid, { text: `r${i}`, parent_id: parent.id }));
    const all = [r1, r2, r3, ...more];
    const url = `/v1/messages/${parent.id}/replies`;
    const ids = (r: any) => r.body.messages.map((m: any) => m.id);
    expect(ids(await w.rest('bob', 'GET', url))).toEqual(all.map((m) => m.id));
    expect(ids(await w.rest('bob', 'GET', `${url}?limit=3`))).toEqual(all.slice(5).map((m) => m.id));
    expect(ids(await w.rest('bob', 'GET', `${url}?limit=3&before=${all[5]!.seq}`))).toEqual(
      all.slice(2, 5).map((m) => m.id),
    );
    expect(ids(await w.rest('bob', 'GET', `${url}?limit=3&after=${all[1]!.seq}`))).toEqual(
      all.slice(2, 5).map((m) => m.id),
    );
    expect(ids(await w.rest('bob', 'GET', `${url}?after=${all[7]!.seq}`))).toEqual([]);
    expectError(await w.rest('dave', 'GET', url), 404, 'NOT_FOUND');

    // History shows the parent and the show_in_channel reply, not the plain replies.
    const hist = await w.rest('bob', 'GET', `/v1/channels/${cid}/messages`);
    expect(ids(hist)).toEqual([parent.id, r2.id]);
  });

  it('rejects a reply to a reply, a parent elsewhere, an unknown parent and show_in_channel without a parent', async () => {
    const cid = await group();
    const other = await group();
    const parent = await w.send('alice', cid, 'p');
    const reply = await w.send('bob', cid, { text: 'r', parent_id: parent.id });
    const elsewhere = await w.send('alice', other, 'x');
    const url = `/v1/channels/${cid}/messages`;
    for (const body of [
      { text: 'nested', parent_id: reply.id },
      { text: 'cross', parent_id: elsewhere.id },
      { text: 'ghost', parent_id: newId() },
      { text: 'loose', show_in_channel: true },
    ])
      expectError(await w.rest('bob', 'POST', url, body), 400, 'VALIDATION_ERROR');
    const bob = await w.socket('bob');
    expectWsError(
      await bob.request('message.send', { cid, message: { text: 'n', parent_id: reply.id } }),
      'VALIDATION_ERROR',
    );
    expect(await w.lastSeq(cid)).toBe(2);
  });

  it('regression: concurrent first replies listed the parent author twice in thread_participants', async () => {
    const cid = await group();
    for (let i = 0; i < 4; i++) {
      const parent = await w.send('alice', cid, `p${i}`);
      await Promise.all(
        ['bob', 'carol', 'alice'].map((u) => w.send(u, cid, { text: `reply by ${u}`, parent_id: parent.id })),
      );
      const p = (await w.rest('alice', 'GET', `/v1/messages/${parent.id}`)).body.message;
      expect(p.reply_count).toBe(3);
      expect([...p.thread_participants].sort()).toEqual(['alice', 'bob', 'carol']);
    }
  });
});

describe('quotes', () => {
  it('quoted_message_id embeds the quoted message (REST, WS, history); one elsewhere is 400', async () => {
    const cid = await group();
    const other = await group();
    const q = await w.send('alice', cid, 'quote me');
    const m = await w.send('bob', cid, { text: 'quoting', quoted_message_id: q.id });
    expect(m).toMatchObject({
      quoted_message_id: q.id,
      quoted_message: { id: q.id, text: 'quote me', user_id: 'alice' },
    });
    const got = (await w.rest('carol', 'GET', `/v1/messages/${m.id}`)).body.message;
    expect(got.quoted_message).toMatchObject({ id: q.id, text: 'quote me' });
    const hist = (await w.rest('carol', 'GET', `/v1/channels/${cid}/messages`)).body.messages;
    expect(hist.find((x: any) => x.id === m.id).quoted_message).toMatchObject({ id: q.id, text: 'quote me' });
    const bob = await w.socket('bob');
    const ws = await bob.request('message.send', { cid, message: { text: 'again', quoted_message_id: q.id } });
    expect(ws.message.quoted_message).toMatchObject({ id: q.id, text: 'quote me' });

    const x = await w.send('alice', other, 'elsewhere');
    const url = `/v1/channels/${cid}/messages`;
    expectError(await w.rest('bob', 'POST', url, { text: 'q', quoted_message_id: x.id }), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('bob', 'POST', url, { text: 'q', quoted_message_id: newId() }), 400, 'VALIDATION_ERROR');
  });
});

describe('pins', () => {
  it('pin, list (latest pin first), unpin; repeats take no seq; non-members 404', async () => {
    const cid = await group();
    const [m1, m2] = [await w.send('alice', cid, 'one'), await w.send('alice', cid, 'two')];
    const carol = await w.socket('carol');
    const p1 = await w.rest('bob', 'POST', `/v1/messages/${m1.id}/pin`);
    expect(p1.status).toBe(200);
    expect(p1.body.message).toMatchObject({ id: m1.id, pinned: true, pinned_by: 'bob' });
    expect(isIso(p1.body.message.pinned_at)).toBe(true);
    const ev = await carol.waitFor((f) => f.type === 'message.updated' && f.message.id === m1.id);
    expect(ev.message).toMatchObject({ pinned: true, pinned_by: 'bob' });
    await w.rest('carol', 'POST', `/v1/messages/${m2.id}/pin`);
    const listed = await w.rest('carol', 'GET', `/v1/channels/${cid}/pinned`);
    expect(listed.body.messages.map((m: any) => m.id)).toEqual([m2.id, m1.id]);

    const seq = await w.lastSeq(cid);
    expect((await w.rest('alice', 'POST', `/v1/messages/${m1.id}/pin`)).body.message.pinned_by).toBe('bob');
    expect(await w.lastSeq(cid)).toBe(seq);

    const u = await w.rest('alice', 'DELETE', `/v1/messages/${m1.id}/pin`);
    expect(u.body.message).toMatchObject({ pinned: false, pinned_at: null, pinned_by: null });
    expect((await w.rest('bob', 'GET', `/v1/channels/${cid}/pinned`)).body.messages.map((m: any) => m.id)).toEqual([
      m2.id,
    ]);
    expect((await w.rest('alice', 'DELETE', `/v1/messages/${m1.id}/pin`)).status).toBe(200);
    expect(await w.lastSeq(cid)).toBe(seq + 1);

    expectError(await w.rest('dave', 'POST', `/v1/messages/${m1.id}/pin`), 404, 'NOT_FOUND');
    expectError(await w.rest('dave', 'GET', `/v1/channels/${cid}/pinned`), 404, 'NOT_FOUND');
    // Deleting a pinned message unpins it.
    await w.rest('alice', 'DELETE', `/v1/messages/${m2.id}`);
    expect((await w.rest('bob', 'GET', `/v1/channels/${cid}/pinned`)).body.messages).toEqual([]);
    expectError(await w.rest('bob', 'POST', `/v1/messages/${m2.id}/pin`), 403, 'FORBIDDEN');
  });
});

describe('mentions', () => {
  it('@username mentions members only and notifies their sockets', async () => {
    const cid = await group();
    const [bob, zed] = [await w.socket('bob'), await w.socket('zed')];
    const m = await w.send('alice', cid, 'hey @BOB and @zed, see @nobody');
    expect(m.mentioned_users).toEqual(['bob']);
    expect(m).toMatchObject({ mentioned_here: false, mentioned_channel: false });
    const note = await bob.waitFor((f) => f.type === 'notification.new');
    expect(note).toMatchObject({ cid, reason: 'mention', message: { id: m.id, mentioned_users: ['bob'] } });
    // Publishing is synchronous in process: had zed been notified, it would be here by now.
    await zed.request('ping');
    expect(zed.events('notification.new')).toEqual([]);
  });

  it('@channel and @here set their flags and notify members', async () => {
    const cid = await group();
    const [alice, bob, carol] = [await w.socket('alice'), await w.socket('bob'), await w.socket('carol')];
    const c = await w.send('alice', cid, 'attention @channel');
    expect(c).toMatchObject({ mentioned_channel: true, mentioned_here: false, mentioned_users: [] });
    for (const s of [bob, carol])
      expect(await s.waitFor((f) => f.type === 'notification.new' && f.message.id === c.id)).toMatchObject({
        reason: 'channel',
      });
    const here = await w.send('bob', cid, 'anyone @here?');
    expect(here).toMatchObject({ mentioned_here: true, mentioned_channel: false });
    for (const s of [alice, carol])
      expect(await s.waitFor((f) => f.type === 'notification.new' && f.message.id === here.id)).toMatchObject({
        reason: 'here',
      });
    // The author is never notified of their own mention.
    await alice.request('ping');
    expect(alice.events('notification.new').filter((f) => f.message.id === c.id)).toEqual([]);
  });
});

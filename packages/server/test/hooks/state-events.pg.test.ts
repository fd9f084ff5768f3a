/**
 * Webhooks hear more than the message log: user groups (`user_group.updated`, in the app's
 * lane, like custom emoji), a channel's bookmarks bar (`bookmarks.updated`) and its notes
 * (`note.updated`, `note.deleted`), in the channel's lane. Personal notes stay private, and a
 * change that is refused sends nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { eventually, type Harness, startHarness } from '../harness.js';
import { makeWorld, type World } from '../messaging/world.js';
import { type Received, type Receiver, startReceiver } from './helpers.js';

let h: Harness;
let w: World;
let rcv: Receiver;
let secret: string;
let hookId: string;

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }) });
  w = await makeWorld(h, [{ id: 'admin', role: 'admin' }, { id: 'bob' }, { id: 'carol' }]);
  await h.listen();
  const hook = await w.rest(null, 'POST', '/v1/webhooks', {
    url: `${rcv.url}/state`,
    events: ['user_group.*', 'bookmarks.*', 'note.*', 'personal_note.*'],
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  secret = hook.body.secret;
  hookId = hook.body.webhook.id;
});
afterEach(async () => {
  await w.closeSockets();
});
afterAll(async () => {
  await h.close();
  await rcv.close();
});

/** What the endpoint got so far that `pick` keeps, once there are `n` of them. */
async function received(n: number, pick: (r: Received) => boolean): Promise<Received[]> {
  return (await eventually(() => {
    const got = rcv.on('/state').filter(pick);
    return got.length >= n ? got : null;
  }, 20_000)) as Received[];
}

describe('webhooks for groups, bookmarks and notes', () => {
  it('a group’s life reaches the endpoint in order, signed; a refused change sends nothing', async () => {
    const created = await w.rest('admin', 'POST', '/v1/user-groups', {
      handle: 'hooked',
      name: 'Hooked',
      members: ['bob'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.group.id;
    expect((await w.rest('admin', 'POST', `/v1/user-groups/${id}/members`, { add: ['carol'] })).status).toBe(200);
    expect((await w.rest('admin', 'PATCH', `/v1/user-groups/${id}`, { name: 'Hooked team' })).status).toBe(200);
    // Refused: bob may not manage groups, and the handle of another group is taken.
    expect((await w.rest('bob', 'PATCH', `/v1/user-groups/${id}`, { name: 'Mine now' })).status).toBe(403);
    const other = await w.rest('admin', 'POST', '/v1/user-groups', { handle: 'other', name: 'Other' });
    expect((await w.rest('admin', 'PATCH', `/v1/user-groups/${id}`, { handle: 'other' })).status).toBe(409);
    expect((await w.rest('admin', 'DELETE', `/v1/user-groups/${id}`)).status).toBe(200);

    const got = await received(4, (r) => r.json?.event?.group?.id === id);
    expect(got.map((r) => `${r.json.type}:${r.json.event.change}`)).toEqual([
      'user_group.updated:created',
      'user_group.updated:members',
      'user_group.updated:updated',
      'user_group.updated:deleted',
    ]);
    expect(got[1]?.json.event.group.members).toEqual(['bob', 'carol']);
    expect(got[2]?.json.event.group.name).toBe('Hooked team');
    for (const r of got) {
      expect(r.json.app_id).toBe(w.app.id);
      expect(r.headers['x-parley-event']).toBe('user_group.updated');
      expect(verifySignature(secret, String(r.headers['x-parley-signature']), r.body)).toBe(true);
    }
    // The other group's creation came too; the refused changes left no trace.
    await received(1, (r) => r.json?.event?.group?.id === other.body.group.id);
    expect(rcv.on('/state').filter((r) => r.json?.event?.group?.name === 'Mine now')).toEqual([]);
    expect(
      rcv.on('/state').filter((r) => r.json?.event?.group?.handle === 'other' && r.json.event.group.id === id),
    ).toEqual([]);
  });

  it('a channel’s bookmarks and notes ride its lane; personal notes are never sent', async () => {
    const cid = await w.channel('admin', 'group', 'hooked-room', ['bob']);
    const link = await w.rest('bob', 'POST', `/v1/channels/${cid}/bookmarks`, {
      url: 'https://example.com/runbook',
      title: 'Runbook',
    });
    expect(link.status, JSON.stringify(link.body)).toBe(201);
    const note = await w.rest('bob', 'POST', '/v1/notes', { cid, title: 'Plan', text: 'step one' });
    expect(note.status, JSON.stringify(note.body)).toBe(201);
    const edited = await w.rest('admin', 'PATCH', `/v1/notes/${note.body.note.id}`, {
      base_version: 1,
      text: 'step one\nstep two',
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect((await w.rest('bob', 'DELETE', `/v1/channels/${cid}/bookmarks/${link.body.bookmark.id}`)).status).toBe(200);
    expect((await w.rest('admin', 'DELETE', `/v1/notes/${note.body.note.id}`)).status).toBe(200);
    const mine = await w.rest('carol', 'POST', '/v1/notes', { title: 'Diary', text: 'private' });
    expect(mine.status).toBe(201);

    const got = await received(5, (r) => r.json?.event?.cid === cid);
    expect(got.map((r) => r.json.type)).toEqual([
      'bookmarks.updated',
      'note.updated',
      'note.updated',
      'bookmarks.updated',
      'note.deleted',
    ]);
    expect(got[0]?.json.event.bookmarks.map((b: { title: string }) => b.title)).toEqual(['Runbook']);
    expect(got[2]?.json.event.note.text).toBe('step one\nstep two');
    expect(got[3]?.json.event.bookmarks).toEqual([]);
    // The outbox is written in each change's transaction: the delivery log, read after the
    // calls returned, is all there will ever be — and holds nothing of carol's personal note.
    const log = await w.rest(null, 'GET', `/v1/webhooks/${hookId}/deliveries?limit=200`);
    const types = new Set(log.body.deliveries.map((d: { event_type: string }) => d.event_type));
    expect([...types].sort()).toEqual(['bookmarks.updated', 'note.deleted', 'note.updated', 'user_group.updated']);
    expect(rcv.on('/state').some((r) => JSON.stringify(r.json).includes('Diary'))).toBe(false);
  });
});

/**
 * Idle rooms (features/spaces/idle-rooms.ts): a space's room with nobody in the space, no live
 * call and nothing said nor anyone there for `roomIdleDays` is archived by the sweep, as a
 * manual archive is (`channel.updated` to its members); entering again unarchives it, history
 * kept. The clock is moved, not waited for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveIdleRooms } from '../../src/features/spaces/idle-rooms.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

const DAY = 86_400_000;
let h: Harness;
let app: TestApp;
let url: string;
let offset = 0;
const sockets: TestSocket[] = [];

async function rest(user: string, method: 'GET' | 'POST', u: string, payload?: unknown) {
  return h.call({ method, url: u, headers: await app.user(user), ...(payload ? { payload } : {}) });
}
const channel = async (cid: string) =>
  (await h.call({ method: 'GET', url: `/v1/channels/${cid}`, headers: await app.server() })).body.channel;
const sweep = () => archiveIdleRooms(h.server.svc);

/** A space Bob walks into and out of (its room made, then left empty); answers the room's cid. */
async function usedRoom(name: string): Promise<{ spaceId: string; cid: string }> {
  const space = (await rest('admin', 'POST', '/v1/spaces', { name })).body.space;
  const cid = (await rest('bob', 'POST', `/v1/spaces/${space.id}/enter`)).body.space.cid as string;
  expect((await rest('bob', 'POST', `/v1/channels/${cid}/messages`, { text: 'anyone?' })).status).toBe(200);
  expect((await rest('bob', 'POST', '/v1/spaces/leave')).status).toBe(200);
  return { spaceId: space.id, cid };
}

beforeAll(async () => {
  h = await startHarness(
    {
      spaces: { quietMs: 0, inviteTimeoutMs: 1_000, awayMs: 300_000, roomIdleDays: 30 },
      // The sweeps here are the tests' own: the hourly job's, run by a worker on the moved clock,
      // once archived the room between two of them (CI: two sweeps at once archived nothing).
      jobWorkers: false,
    },
    { clock: () => Date.now() + offset },
  );
  url = await h.listen();
  app = await h.createApp();
  await h.users(app, [
    { id: 'admin', name: 'Ada', role: 'admin' },
    { id: 'bob', name: 'Bob' },
    { id: 'cy', name: 'Cy' },
  ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await h.close();
});

describe('idle office rooms', () => {
  it('are archived after the period and not before; the event reaches a member; entering unarchives', async () => {
    offset = 0;
    const { spaceId, cid } = await usedRoom('Attic');
    // Cy is in the room's members without being in the space (added by the server).
    const added = await h.call({
      method: 'POST',
      url: `/v1/channels/${cid}/members`,
      headers: await app.server(),
      payload: { add: ['cy'] },
    });
    expect(added.status).toBe(200);
    const cy = await TestSocket.connect(url, app, 'cy');
    sockets.push(cy);

    offset = 29 * DAY;
    expect(await sweep()).toBe(0);
    expect((await channel(cid)).archived).toBe(false);

    offset = 31 * DAY;
    expect(await sweep()).toBe(1);
    const archived = await channel(cid);
    expect(archived.archived).toBe(true);
    expect(new Date(archived.archived_at).getTime()).toBeGreaterThan(Date.now() + 30 * DAY);
    const ev = await cy.waitFor((f) => f.type === 'channel.updated' && f.cid === cid && f.channel.archived === true);
    expect(ev.seq).toBe(archived.last_seq);
    // Idempotent: a second run (another node's) finds nothing to do, and logs nothing.
    expect(await sweep()).toBe(0);
    expect((await channel(cid)).last_seq).toBe(archived.last_seq);
    // Archived means read-only, as a manual archive.
    expect((await rest('cy', 'POST', `/v1/channels/${cid}/messages`, { text: 'hello?' })).status).toBe(403);

    // Bob comes back: the room is open again in the same move, its history kept.
    const back = await rest('bob', 'POST', `/v1/spaces/${spaceId}/enter`);
    expect(back.status).toBe(200);
    expect(back.body.space.cid).toBe(cid);
    const reopened = await channel(cid);
    expect(reopened.archived).toBe(false);
    await cy.waitFor((f) => f.type === 'channel.updated' && f.cid === cid && f.channel.archived === false);
    const texts = ((await rest('bob', 'GET', `/v1/channels/${cid}/messages`)).body.messages as any[]).map(
      (m) => m.text,
    );
    expect(texts).toContain('anyone?');
    expect((await rest('bob', 'POST', `/v1/channels/${cid}/messages`, { text: 'back again' })).status).toBe(200);
    await rest('bob', 'POST', '/v1/spaces/leave');
  });

  it('not while someone is in the space, however long ago they came', async () => {
    offset = 0;
    const space = (await rest('admin', 'POST', '/v1/spaces', { name: 'Desk 4' })).body.space;
    const cid = (await rest('bob', 'POST', `/v1/spaces/${space.id}/enter`)).body.space.cid as string;
    offset = 90 * DAY;
    await sweep();
    expect((await channel(cid)).archived).toBe(false);
    await rest('bob', 'POST', '/v1/spaces/leave');
    // Bob leaving is what the room last saw: idle from now on, not from when he came.
    await sweep();
    expect((await channel(cid)).archived).toBe(false);
    offset = 121 * DAY;
    await sweep();
    expect((await channel(cid)).archived).toBe(true);
  });

  it('not while a call is live in its room', async () => {
    offset = 0;
    const space = (await rest('admin', 'POST', '/v1/spaces', { name: 'Booth' })).body.space;
    const cid = (await rest('bob', 'POST', `/v1/spaces/${space.id}/enter`)).body.space.cid as string;
    const bob = await TestSocket.connect(url, app, 'bob');
    sockets.push(bob);
    const started = await bob.request('call.start', { cid, kind: 'audio' });
    expect(started.ok).toBe(true);
    // Bob walks out, the call goes on without him in the space.
    await rest('bob', 'POST', '/v1/spaces/leave');
    offset = 60 * DAY;
    await sweep();
    expect((await channel(cid)).archived).toBe(false);
    expect((await bob.request('call.end', { call_id: started.call.id })).ok).toBe(true);
  });

  it('a room already archived by hand, or a space never entered, is left alone; 0 days is never', async () => {
    offset = 0;
    const { cid } = await usedRoom('Loft');
    await h.call({
      method: 'PATCH',
      url: `/v1/channels/${cid}`,
      headers: await app.server(),
      payload: { archived: true },
    });
    const before = (await channel(cid)).last_seq;
    // A space nobody entered has no room: nothing to archive, nothing to fail on.
    expect((await rest('admin', 'POST', '/v1/spaces', { name: 'Never used' })).status).toBe(200);
    offset = 400 * DAY;
    await sweep();
    expect((await channel(cid)).last_seq).toBe(before);

    const { cid: other } = await usedRoom('Cellar');
    offset = 800 * DAY;
    const svc = h.server.svc;
    const saved = svc.config.spaces.roomIdleDays;
    svc.config.spaces.roomIdleDays = 0;
    try {
      expect(await sweep()).toBe(0);
    } finally {
      svc.config.spaces.roomIdleDays = saved;
    }
    expect((await channel(other)).archived).toBe(false);
    // Two nodes' sweeps at once: one archives, the other finds it done; one event, not two.
    const seq = (await channel(other)).last_seq;
    const [x, y] = await Promise.all([sweep(), sweep()]);
    expect(x + y).toBe(1);
    const after = await channel(other);
    expect(after.archived).toBe(true);
    expect(after.last_seq).toBe(seq + 1);
  });
});

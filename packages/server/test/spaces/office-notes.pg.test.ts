/**
 * The office, spoken in its room: a status set or cleared by someone in a space, and a
 * meeting (the room's call) starting and ending, are system messages in the space's room.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let url: string;
const sockets: TestSocket[] = [];

async function rest(user: string, method: 'GET' | 'POST', u: string, payload?: unknown) {
  return h.call({ method, url: u, headers: await app.user(user), ...(payload ? { payload } : {}) });
}
const systemTexts = async (cid: string) =>
  ((await rest('admin', 'GET', `/v1/channels/${cid}/messages`)).body.messages as any[])
    .filter((m) => m.type === 'system')
    .map((m) => m.text as string);

beforeAll(async () => {
  // No quiet window: every change is said (the window itself is the spaces suite's).
  h = await startHarness({ spaces: { quietMs: 0, inviteTimeoutMs: 1_000, awayMs: 300_000 } });
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

describe('the office says in its room', () => {
  it('status changes of who is in the space, not of others', async () => {
    const space = (await rest('admin', 'POST', '/v1/spaces', { name: 'Studio' })).body.space;
    const entered = await rest('bob', 'POST', `/v1/spaces/${space.id}/enter`);
    expect(entered.status).toBe(200);
    await rest('admin', 'POST', `/v1/spaces/${space.id}/enter`);
    const cid = entered.body.space.cid as string;

    expect((await rest('bob', 'POST', '/v1/me/status', { text: 'Lunch', emoji: '🍔' })).status).toBe(200);
    await eventually(async () => (await systemTexts(cid)).includes('Bob: 🍔 Lunch'));
    await rest('bob', 'POST', '/v1/me/status', { text: null });
    await eventually(async () => (await systemTexts(cid)).includes('Bob cleared their status'));

    // Cy is in no space: her status is said nowhere.
    await rest('cy', 'POST', '/v1/me/status', { text: 'Focus' });
    await rest('bob', 'POST', '/v1/me/status', { text: 'Back' });
    await eventually(async () => (await systemTexts(cid)).includes('Bob: Back'));
    expect((await systemTexts(cid)).some((t) => t.includes('Focus'))).toBe(false);
  });

  it('a meeting starting and ending', async () => {
    const space = (await rest('admin', 'POST', '/v1/spaces', { name: 'Boardroom' })).body.space;
    const cid = (await rest('bob', 'POST', `/v1/spaces/${space.id}/enter`)).body.space.cid as string;
    const bob = await TestSocket.connect(url, app, 'bob');
    sockets.push(bob);
    const started = await bob.request('call.start', { cid, kind: 'audio' });
    expect(started.ok).toBe(true);
    await eventually(async () => (await systemTexts(cid)).includes('Bob started a meeting'));
    const ended = await bob.request('call.end', { call_id: started.call.id });
    expect(ended.ok).toBe(true);
    await eventually(async () => (await systemTexts(cid)).some((t) => /^Meeting ended · /.test(t)));
    // Once each.
    expect((await systemTexts(cid)).filter((t) => t === 'Bob started a meeting')).toHaveLength(1);
  });
});

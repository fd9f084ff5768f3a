import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('smoke', () => {
  it('creates an app, users, a channel, sends and receives', async () => {
    const app = await h.createApp();
    await h.users(app, [
      { id: 'alice', username: 'alice' },
      { id: 'bob', username: 'bob' },
    ]);
    const ch = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('alice'),
      payload: { type: 'group', id: 'g1', members: ['bob'] },
    });
    expect(ch.status).toBe(200);
    const url = await h.listen();
    const bob = await TestSocket.connect(url, app, 'bob');
    const sent = await h.call({
      method: 'POST',
      url: '/v1/channels/group:g1/messages',
      headers: await app.user('alice'),
      payload: { text: 'hi @bob' },
    });
    expect(sent.status).toBe(200);
    expect(sent.body.message).toMatchObject({ seq: 1, text: 'hi @bob', mentioned_users: ['bob'] });
    const ev = await bob.waitFor((f) => f.type === 'message.new');
    expect(ev.message.id).toBe(sent.body.message.id);
    await bob.waitFor((f) => f.type === 'notification.new');
    const q = await h.call({ method: 'POST', url: '/v1/channels/query', headers: await app.user('bob'), payload: {} });
    expect(q.body.channels[0]).toMatchObject({ cid: 'group:g1', unread_count: 1, mention_count: 1 });
    bob.close();
  });
});

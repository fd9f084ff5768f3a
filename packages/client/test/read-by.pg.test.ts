/**
 * Read-by in the SDK: `readByOf` of the viewer's latest message follows the other members'
 * reads live (`read.updated`), with the server's times, and equals what the server answers;
 * `loadReadBy` says when read-by is off; the last channel follows the user to another client,
 * said on the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, readByOf } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const open: ChatClient[] = [];
async function connect(userId: string) {
  const c = await makeClient(h, app, userId);
  open.push(c);
  return c;
}

beforeAll(async () => {
  h = await startHarness({ readByMaxMembers: 3 });
  app = await h.createApp();
  await h.users(
    app,
    ['ada', 'bob', 'cy', 'dee'].map((id) => ({ id, name: id })),
  );
});
afterAll(async () => {
  for (const c of open) await c.disconnectUser();
  await h.close();
});

describe('read-by in the SDK', () => {
  it('follows the others reading, live, with the server’s times', async () => {
    const [ada, bob, cy] = await Promise.all([connect('ada'), connect('bob'), connect('cy')]);
    const a = ada.channel('group', 'trio');
    await a.createChannel({ members: ['bob', 'cy'] });
    await a.watch();
    const sent = await a.sendMessage({ text: 'standup in 5' });
    const b = bob.channel('group', 'trio');
    const c = cy.channel('group', 'trio');
    await Promise.all([b.watch(), c.watch()]);

    const first = await a.loadReadBy();
    expect(first).toMatchObject({ enabled: true, read_by: [] });
    const state = () => a.state!;
    expect(readByOf(state(), 'ada')).toMatchObject({ enabled: true, readers: [], others: 2 });
    expect(readByOf(state(), 'ada')?.message.id).toBe(sent.id);

    await b.markRead();
    const one = await until(() => {
      const r = readByOf(state(), 'ada');
      return r && r.readers.length === 1 ? r : null;
    });
    expect(one?.readers[0]?.user_id).toBe('bob');
    expect(one?.readers[0]?.read_at).not.toBeNull();
    await c.markRead();
    const both = await until(() => {
      const r = readByOf(state(), 'ada');
      return r && r.readers.length === 2 ? r : null;
    });
    // The SDK's view is the server's answer.
    const server = await a.loadReadBy(sent.id);
    expect(both?.readers).toEqual(server?.read_by);

    // A new message of ada's is read by no one yet.
    await a.sendMessage({ text: 'moved to 10' });
    await until(() => readByOf(state(), 'ada')?.message.text === 'moved to 10');
    expect(readByOf(state(), 'ada')?.readers).toEqual([]);
    // Someone else's message is not ada's: read-by stays on hers.
    await b.sendMessage({ text: 'ok' });
    await until(() => state().messages.some((m) => m.text === 'ok'));
    expect(readByOf(state(), 'ada')?.message.text).toBe('moved to 10');
  });

  it('is off above the limit, as the server says', async () => {
    // Its own client: the first test's clients connect at once, so which is first in `open` is
    // a race (bob creating the channel would make it three members, under the limit).
    const ada = await connect('ada');
    const a = ada.channel('group', 'crowd');
    await a.createChannel({ members: ['bob', 'cy', 'dee'] });
    await a.watch();
    await a.sendMessage({ text: 'hello crowd' });
    const r = await a.loadReadBy();
    expect(r).toMatchObject({ enabled: false, max_members: 3, read_by: [] });
    expect(readByOf(a.state!, 'ada')?.enabled).toBe(false);
  });

  it('the last channel follows the user to another client; a bad one is refused', async () => {
    const one = await connect('dee');
    const a = one.channel('group', 'dee-place');
    await a.createChannel({ members: ['ada'] });
    await one.setLastChannel('group:dee-place');
    const two = await connect('dee');
    expect(await two.getLastChannel()).toBe('group:dee-place');
    await expect(two.setLastChannel('group:trio')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await two.getLastChannel()).toBe('group:dee-place');
  });

  it('is said on the socket: while it is down, nothing is sent and the call says DISCONNECTED', async () => {
    const c = await connect('dee');
    await c.channel('group', 'dee-two').createChannel({ members: ['bob'] });
    c.dropConnection();
    // Not over HTTP instead: a tab whose session has just ended must ask nothing with its token.
    await expect(c.setLastChannel('group:dee-two')).rejects.toMatchObject({ code: 'DISCONNECTED' });
    expect(await c.getLastChannel()).not.toBe('group:dee-two');
    await until(() => c.state.get().connection === 'online');
    await c.setLastChannel('group:dee-two');
    expect(await c.getLastChannel()).toBe('group:dee-two');
  });
});

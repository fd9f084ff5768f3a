/**
 * Hidden read receipts in the SDK: a member who hides them (`setReadPrivacy`) drops out of the
 * others' `readByOf` live and stays out when they read, while their own read mark and unread
 * counts move as before; showing them again puts them back, live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, MemoryStorage, readByOf } from '../src/index.js';
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
  h = await startHarness();
  app = await h.createApp();
  await h.users(
    app,
    ['ada', 'bob', 'cy'].map((id) => ({ id, name: id })),
  );
});
afterAll(async () => {
  for (const c of open) await c.disconnectUser();
  await h.close();
});

describe('hidden read receipts in the SDK', () => {
  it('take the reader out of the others’ read-by, live, and keep their own state exact', async () => {
    const [ada, bob, cy] = await Promise.all([connect('ada'), connect('bob'), connect('cy')]);
    const a = ada.channel('group', 'quiet');
    await a.createChannel({ members: ['bob', 'cy'] });
    await a.watch();
    await a.sendMessage({ text: 'first' });
    const b = bob.channel('group', 'quiet');
    const c = cy.channel('group', 'quiet');
    await Promise.all([b.watch(), c.watch()]);
    await a.loadReadBy();
    const readers = () => readByOf(a.state!, 'ada')?.readers.map((r) => r.user_id) ?? [];

    await b.markRead();
    await until(() => readers().includes('bob'));
    expect(await bob.getReadPrivacy()).toEqual({ hide_read_receipts: false });
    expect(await bob.setReadPrivacy({ hide_read_receipts: true })).toEqual({ hide_read_receipts: true });
    // The mark Ada held is replaced by the hidden one: Bob no longer counts as having seen it.
    await until(() => !readers().includes('bob'));
    expect(readByOf(a.state!, 'ada')).toMatchObject({ readers: [], others: 2 });

    // A new message: Bob's unread count moves and clears as before, Ada never sees him read it.
    await a.sendMessage({ text: 'second' });
    await until(() => b.state?.unreadCount === 1);
    await b.markRead();
    await until(() => b.state?.unreadCount === 0);
    expect(b.state?.channel.membership?.last_read_seq).toBe(a.state?.lastSeq);
    await c.markRead();
    await until(() => readers().includes('cy'));
    expect(readers()).toEqual(['cy']);
    // A fresh snapshot says the same.
    const fresh = await connect('ada');
    const f = fresh.channel('group', 'quiet');
    await f.watch();
    expect(readByOf(f.state!, 'ada')?.readers.map((r) => r.user_id)).toEqual(['cy']);

    // Shown again: Ada's read-by has him back, live, at his real mark.
    await bob.setReadPrivacy({ hide_read_receipts: false });
    await until(() => readers().includes('bob'));
    expect(readers().sort()).toEqual(['bob', 'cy']);
  });

  it('are current after a reconnect and after a restart from storage: read marks move no seq', async () => {
    const storage = new MemoryStorage();
    const [bob, cy] = await Promise.all([connect('bob'), connect('cy')]);
    // Ada's client keeps its state in storage: she sends, Bob reads, she sees him.
    const own = await makeClient(h, app, 'ada', { storage });
    open.push(own);
    const mine = own.channel('group', 'away');
    await mine.createChannel({ members: ['bob', 'cy'] });
    await mine.watch();
    const b = bob.channel('group', 'away');
    const c = cy.channel('group', 'away');
    await Promise.all([b.watch(), c.watch()]);
    await mine.sendMessage({ text: 'while you were away' });
    await mine.loadReadBy();
    const readers = (ch = mine) =>
      readByOf(ch.state!, 'ada')
        ?.readers.map((r) => r.user_id)
        .sort() ?? [];
    await b.markRead();
    await until(() => readers().includes('bob'));

    // Away: Cy reads and Bob hides his receipts. Neither moves a seq, so no replay carries them.
    own.pauseConnection();
    await until(() => own.state.get().connection !== 'online');
    await c.markRead();
    await bob.setReadPrivacy({ hide_read_receipts: true });
    own.resumeConnection();
    await until(() => own.state.get().connection === 'online');
    await until(() => readers().join() === 'cy', 10_000, 'read-by after the resync');

    // Back: Bob shows them again, Cy marks it unread. Ada's client is closed meanwhile, and a
    // new one starts from what it stored (Cy read, Bob hidden), then watches.
    await own.disconnectUser();
    await bob.setReadPrivacy({ hide_read_receipts: false });
    const first = c.state!.messages.at(-1)!;
    await c.markUnread(first.id);
    const again = await makeClient(h, app, 'ada', { storage });
    open.push(again);
    const restored = again.channel('group', 'away');
    await restored.watch();
    await restored.loadReadBy();
    await until(() => readers(restored).join() === 'bob', 10_000, 'read-by after the restart');
  });
});

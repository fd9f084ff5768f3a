import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', username: 'alice', name: 'Alice' },
    { id: 'bob', username: 'bob', name: 'Bob' },
  ]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('ChatClient', () => {
  it('connects, watches, sends optimistically and receives in real time', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    expect(alice.state.get().connection).toBe('online');

    const ch = alice.channel('group', 'team');
    await ch.createChannel({ members: ['bob'], name: 'Team' });
    await ch.watch();
    const bobCh = bob.channel('group', 'team');
    await bobCh.watch();

    const statuses: string[] = [];
    const unsub = alice.state.subscribe((s) => {
      const m = s.channels['group:team']?.messages.at(-1);
      if (m && statuses.at(-1) !== m.status) statuses.push(m.status);
    });
    const sent = await ch.sendMessage({ text: 'hello @bob' });
    unsub();
    expect(sent.status).toBe('sent');
    expect(sent.seq).toBeGreaterThan(0);
    expect(statuses[0]).toBe('sending');
    expect(statuses.at(-1)).toBe('sent');

    await until(() => bobCh.state?.messages.some((m) => m.id === sent.id), 5000, 'bob receives');
    expect(bob.state.get().channels['group:team']?.unreadCount).toBe(1);
    // The totals are the server's, pushed a moment after the message (`unread.updated`).
    await until(() => bob.state.get().totalUnread === 1, 5000, "bob's pushed total");
    expect(bob.state.get().totalMentions).toBe(1);

    await bobCh.markRead();
    expect(bob.state.get().channels['group:team']?.unreadCount).toBe(0);

    await bobCh.sendReaction(sent.id, 'like');
    await until(() => ch.state?.messages.find((m) => m.id === sent.id)?.reactions.like === 1, 5000, 'reaction arrives');
    expect(ch.state?.messages.find((m) => m.id === sent.id)?.own_reactions).toEqual([]);
    expect(bobCh.state?.messages.find((m) => m.id === sent.id)?.own_reactions).toEqual(['like']);
  });

  it('reconnects after the socket drops and fills the gap', async () => {
    const [alice, bob] = clients as [ChatClient, ChatClient];
    const bobCh = bob.channel('group', 'team');
    bob.dropConnection();
    const ch = alice.channel('group', 'team');
    for (let i = 0; i < 5; i++) await ch.sendMessage({ text: `while away ${i}` });
    await until(() => bob.state.get().connection === 'online', 5000, 'bob back online');
    await until(
      () => bobCh.state?.messages.filter((m) => m.text.startsWith('while away')).length === 5,
      5000,
      'gap filled',
    );
    const seqs = bobCh.state!.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(bobCh.state!.messages.map((m) => m.id)).size).toBe(bobCh.state!.messages.length);
  });
});

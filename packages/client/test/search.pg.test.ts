/** The SDK's search and jump-to-message: typed pages, a window around a hit, paging both ways, live messages held back. */
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

describe('search and jump', () => {
  it('finds a message, pages results, and opens a window around it that pages both ways', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    const ch = alice.channel('group', 'archive');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const ids: string[] = [];
    for (let i = 0; i < 120; i++)
      ids.push((await ch.sendMessage({ text: i === 30 ? 'the needle is here' : `hay ${i} straw` })).id);

    const hits = await bob.search('needle');
    expect(hits.results.map((r) => r.message.id)).toEqual([ids[30]]);
    expect(hits.results[0]?.highlight).toBe('the <mark>needle</mark> is here');
    expect(hits.results[0]?.channel.cid).toBe('group:archive');
    expect(bob.state.get().users.alice?.name).toBe('Alice');

    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await bob.search('straw', { sort: 'newest', limit: 50, cursor });
      for (const r of page.results) seen.add(r.message.id);
      cursor = page.next;
    } while (cursor);
    expect(seen.size).toBe(119);

    const bobCh = bob.channel('group', 'archive');
    await bobCh.watch();
    await bobCh.loadAround(ids[30] as string, 21);
    const view = () => (bobCh.state?.messages ?? []).map((m) => m.text);
    expect(view()).toContain('the needle is here');
    expect(view()).toHaveLength(21);
    expect(bobCh.state?.hasNewer).toBe(true);
    expect(bobCh.state?.hasOlder).toBe(true);

    // A live message while looking at old history is not appended after the window.
    const live = await ch.sendMessage({ text: 'live while bob reads old history' });
    await until(() => (bobCh.state?.lastSeq ?? 0) >= live.seq, 5000, 'bob sees the event');
    expect(view()).not.toContain('live while bob reads old history');

    await bobCh.loadOlder(100);
    expect(view()[0]).toBe('hay 0 straw');
    expect(bobCh.state?.hasOlder).toBe(false);
    while (bobCh.state?.hasNewer) await bobCh.loadNewer(40);
    expect(view()).toHaveLength(121);
    expect(view().at(-1)).toBe('live while bob reads old history');
    const seqs = (bobCh.state?.messages ?? []).map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // Back at the live end, live messages appear again.
    const after = await ch.sendMessage({ text: 'and now bob is live' });
    await until(() => view().includes('and now bob is live'), 5000, 'live again');
    expect(after.seq).toBeGreaterThan(live.seq);
    // 121 sends one after another: 6 s on a quiet machine, past the default 30 s on a loaded one.
  }, 120_000);

  it('jumpToLatest leaves an old window for the latest page', async () => {
    const alice = await makeClient(h, app, 'alice');
    clients.push(alice);
    const ch = alice.channel('group', 'jump');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const first = await ch.sendMessage({ text: 'first of many' });
    for (let i = 0; i < 80; i++) await ch.sendMessage({ text: `filler ${i}` });
    await ch.loadAround(first.id, 11);
    expect(ch.state?.messages[0]?.text).toBe('first of many');
    expect(ch.state?.hasNewer).toBe(true);
    // A page of the old window still on its way when the user jumps is dropped on arrival.
    const late = ch.loadNewer(20);
    await ch.jumpToLatest();
    expect(await late).toBe(0);
    expect(ch.state?.hasNewer).toBe(false);
    expect(ch.state?.messages.at(-1)?.text).toBe('filler 79');
    expect(ch.state?.messages.map((m) => m.text)).not.toContain('filler 10');
    // 81 sends one after another, as above.
  }, 120_000);

  it('bad queries reject with a typed error', async () => {
    const bob = await makeClient(h, app, 'bob');
    clients.push(bob);
    await expect(bob.search('before:2026-99-99')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(bob.search('')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

/**
 * Polls and custom emoji in the SDK against a real server: a message's poll updates live in
 * every client's state (tallies from `poll.updated`, each client's own votes from its answers),
 * survives a later edit event without losing one's own votes, and replays after a reconnect;
 * `client.emoji` loads once and follows `emoji.updated`.
 */
import { describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/index.js';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'ada', name: 'Ada' },
  { id: 'bob', name: 'Bob' },
  { id: 'boss', name: 'Boss', role: 'admin' },
]);
const connect = (userId: string) => bed.connect(userId);

const pollOf = (c: ChatClient, cid: string, id: string) => c.findLocal(cid, id)?.poll;

describe('polls in the SDK', () => {
  it("a message's poll moves live in both clients; own votes stay each client's", async () => {
    const ada = await connect('ada');
    const bob = await connect('bob');
    const ch = ada.channel('group', 'lunch');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const bobCh = bob.channel('group', 'lunch');
    await bobCh.watch();
    const sending = ch.sendMessage({ text: 'Lunch?', poll: { options: ['Pizza', 'Sushi'], multiple: true } });
    // Shown at once while it is sent, every tally zero.
    const local = ch.state?.messages.find((x) => x.status === 'sending' && x.text === 'Lunch?');
    expect(local?.poll?.options.map((o) => [o.text, o.vote_count])).toEqual([
      ['Pizza', 0],
      ['Sushi', 0],
    ]);
    const m = await sending;
    await until(() => pollOf(bob, 'group:lunch', m.id), 5000, 'bob sees the poll');

    await bobCh.votePoll(m.id, ['0', '1']);
    expect(pollOf(bob, 'group:lunch', m.id)?.own_votes).toEqual(['0', '1']);
    await until(() => pollOf(ada, 'group:lunch', m.id)?.voter_count === 1, 5000, 'ada sees the vote');
    expect(pollOf(ada, 'group:lunch', m.id)?.own_votes).toEqual([]);
    expect(pollOf(ada, 'group:lunch', m.id)?.options.map((o) => o.vote_count)).toEqual([1, 1]);

    await ch.votePoll(m.id, ['1']);
    await until(() => pollOf(bob, 'group:lunch', m.id)?.options[1]?.vote_count === 2, 5000, "bob sees ada's vote");
    // Bob's own votes survive the event that carried ada's (events carry no one's own votes).
    expect(pollOf(bob, 'group:lunch', m.id)?.own_votes).toEqual(['0', '1']);
    expect(pollOf(bob, 'group:lunch', m.id)?.options[1]?.voters).toEqual(['bob', 'ada']);

    // An edit of the question (message.updated) keeps each client's own votes too.
    await ch.updateMessage(m.id, 'Lunch today?');
    await until(() => bob.findLocal('group:lunch', m.id)?.text === 'Lunch today?', 5000, 'the edit');
    expect(pollOf(bob, 'group:lunch', m.id)?.own_votes).toEqual(['0', '1']);

    // Taking a vote back, then closing.
    await bobCh.votePoll(m.id, []);
    expect(pollOf(bob, 'group:lunch', m.id)?.own_votes).toEqual([]);
    await ch.closePoll(m.id);
    await until(() => pollOf(bob, 'group:lunch', m.id)?.closed_at, 5000, 'bob sees it closed');
    await expect(bobCh.votePoll(m.id, ['0'])).rejects.toMatchObject({ code: 'POLL_CLOSED' });
    expect(pollOf(bob, 'group:lunch', m.id)?.options.map((o) => o.vote_count)).toEqual([0, 1]);
  });

  it('a client that was away catches up with the tallies by replay', async () => {
    const ada = await connect('ada');
    const bob = await connect('bob');
    const ch = ada.channel('group', 'away');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const bobCh = bob.channel('group', 'away');
    await bobCh.watch();
    const m = await ch.sendMessage({ text: 'Q?', poll: { options: ['A', 'B'] } });
    await until(() => pollOf(bob, 'group:away', m.id), 5000, 'bob sees the poll');
    await bob.disconnectUser();
    await ch.votePoll(m.id, ['1']);
    const bob2 = await connect('bob');
    const again = bob2.channel('group', 'away');
    await again.watch();
    await until(() => pollOf(bob2, 'group:away', m.id)?.options[1]?.vote_count === 1, 5000, 'the tallies');
  });
});

describe('custom emoji in the SDK', () => {
  it('loads once and follows emoji.updated', async () => {
    const bob = await connect('bob');
    const boss = await connect('boss');
    expect(await bob.emoji.load()).toEqual([]);
    const png = Uint8Array.from(
      Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
        'base64',
      ),
    );
    const added = await boss.emoji.add(new Blob([png], { type: 'image/png' }), 'dot', ['point'], 'dot.png');
    expect(added.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/emoji\/images\/[0-9a-f-]{36}$/);
    await until(() => bob.emoji.find('point'), 5000, 'bob hears of it');
    expect(bob.emoji.find(':dot:')?.url).toBe(added.url);
    await expect(bob.emoji.add(new Blob([png], { type: 'image/png' }), 'mine')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await boss.emoji.remove('dot');
    await until(() => bob.emoji.state.get().emoji.length === 0, 5000, 'bob hears it went');
  });
});

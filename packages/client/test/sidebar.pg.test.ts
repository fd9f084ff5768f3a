/**
 * The SDK's sidebar and saved items on two devices of one user: a change made on one lands in
 * the other's `state` through the socket event (no reload), the default groups take what no
 * section holds, and a saved item made elsewhere arrives with its message.
 */
import { describe, expect, it } from 'vitest';
import { groupChannels } from '../src/index.js';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
]);
const connect = (userId: string) => bed.connect(userId);

describe('client.sidebar and client.saved', () => {
  it('follow the user’s other device live', async () => {
    const phone = await connect('alice');
    const laptop = await connect('alice');
    for (const [id, name] of [
      ['alpha', 'Alpha'],
      ['beta', 'Beta'],
      ['gamma', 'Gamma'],
    ] as const)
      await phone.channel('group', id).createChannel({ members: ['bob'], name });
    const dm = phone.channel('dm', { members: ['bob'] });
    await dm.watch();
    await phone.queryChannels({});
    await laptop.queryChannels({});
    expect(await laptop.sidebar.load()).toEqual({ sections: [] });

    const made = await phone.sidebar.createSection('Projects');
    const projects = made.sections[0]!;
    await phone.sidebar.place('group:gamma', projects.id);
    await phone.sidebar.place('group:alpha', projects.id, 0);
    await phone.sidebar.star('group:beta');
    await until(() => laptop.sidebar.isStarred('group:beta'), 10_000, 'the laptop hears of the moves');
    expect(laptop.sidebar.state.get().sidebar).toEqual(phone.sidebar.state.get().sidebar);
    expect(laptop.sidebar.sectionOf('group:alpha')?.name).toBe('Projects');

    const s = laptop.state.get();
    const groups = groupChannels(laptop.sidebar.state.get().sidebar, s.channels, s.channelList);
    expect(groups.map((g) => [g.name, g.channels.map((c) => c.cid)])).toEqual([
      ['Starred', ['group:beta']],
      ['Projects', ['group:alpha', 'group:gamma']],
      ['Channels', []],
      ['Direct messages', [dm.cid]],
    ]);
    await phone.sidebar.updateSection(projects.id, { sort: 'name', collapsed: true });
    await until(
      () => laptop.sidebar.state.get().sidebar?.sections.find((s) => s.id === projects.id)?.collapsed === true,
      10_000,
      'the collapse',
    );

    const m = await phone.channel('group', 'alpha').sendMessage({ text: 'keep this' });
    expect(await laptop.saved.load()).toEqual([]);
    const item = await phone.saved.save(m.id, { in: '1h' });
    expect(item.message?.text).toBe('keep this');
    await until(() => laptop.saved.state.get().items[0]?.message?.text === 'keep this', 10_000, 'the laptop sees it');
    expect(laptop.saved.isSaved(m.id)).toBe(true);
    await laptop.saved.complete(item.id);
    await until(() => !phone.saved.isSaved(m.id), 10_000, 'the phone sees it done');
    expect((await phone.saved.completed()).map((i) => i.id)).toEqual([item.id]);
  });

  it('client.bookmarks follows a channel’s bar live, and pages its files', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await alice.channel('group', 'bm').createChannel({ members: ['bob'], name: 'Bookmarked' });
    await bob.queryChannels({});
    expect(await bob.bookmarks.load('group:bm')).toEqual([]);
    const one = await alice.bookmarks.add('group:bm', { url: 'https://example.com/one', title: 'One' });
    const two = await alice.bookmarks.add('group:bm', { url: 'https://example.com/two' });
    await until(() => bob.bookmarks.state.get().byCid['group:bm']?.length === 2, 10_000, 'bob hears both');
    await bob.bookmarks.reorder('group:bm', [two.id, one.id]);
    await until(
      () => alice.bookmarks.state.get().byCid['group:bm']?.[0]?.id === two.id,
      10_000,
      'alice hears the new order',
    );
    await bob.bookmarks.rename('group:bm', two.id, 'Two');
    await alice.bookmarks.remove('group:bm', one.id);
    await until(
      () => JSON.stringify(bob.bookmarks.state.get().byCid['group:bm']?.map((b) => b.title)) === '["Two"]',
      10_000,
      'bob hears the rename and the removal',
    );
    expect(await bob.bookmarks.files('group:bm', { kind: 'image' })).toEqual({ files: [] });
  });
});

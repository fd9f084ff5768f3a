/**
 * The SDK's inbox and groups: `client.inbox.state` loads pages, follows `inbox.updated` live on
 * every device of the user (a new item at the top, the count), marks read one and all; a
 * group made by an admin reaches another client's `client.groups.state` live, and a group
 * mention lands in its member's inbox.
 */
import { describe, expect, it } from 'vitest';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'alice', username: 'alice', name: 'Alice', role: 'admin' },
  { id: 'bob', username: 'bob', name: 'Bob' },
]);

describe('the inbox in the SDK', () => {
  it('loads, follows the live count on two devices, and marks read', async () => {
    const alice = await bed.connect('alice');
    const bobPhone = await bed.connect('bob');
    const bobLaptop = await bed.connect('bob');
    const ch = alice.channel('group', 'sdk-inbox');
    await ch.createChannel({ members: ['bob'], name: 'Inbox' });
    await bobPhone.inbox.load();
    expect(bobPhone.inbox.state.get()).toMatchObject({ items: [], unreadCount: 0, loaded: true });

    const m = await ch.sendMessage({ text: 'hi @bob' });
    for (const c of [bobPhone, bobLaptop]) await until(() => c.inbox.state.get().unreadCount === 1);
    await until(() => bobPhone.inbox.state.get().items[0]?.message_id === m.id);
    expect(bobPhone.inbox.state.get().items[0]).toMatchObject({ kind: 'mention', via: 'user', read: false });
    await until(() => bobPhone.inbox.state.get().items[0]?.message?.text === 'hi @bob');

    // Read on the phone: the laptop's badge follows.
    await bobPhone.inbox.markRead(bobPhone.inbox.state.get().items[0]!.id);
    expect(bobPhone.inbox.state.get().unreadCount).toBe(0);
    await until(() => bobLaptop.inbox.state.get().unreadCount === 0);

    // A group mention: the group arrives live in bob's list, its mention in his inbox.
    await bobLaptop.groups.load();
    await alice.groups.create({ handle: 'crew', name: 'Crew', members: ['bob'] });
    await until(() => bobLaptop.groups.state.get().groups.some((g) => g.handle === 'crew'));
    expect((await bobLaptop.groups.search('cr')).map((g) => g.handle)).toEqual(['crew']);
    const g = await ch.sendMessage({ text: 'all hands @crew' });
    await until(() => bobPhone.inbox.state.get().items[0]?.message_id === g.id);
    expect(bobPhone.inbox.state.get().items[0]).toMatchObject({ via: 'group', group_handle: 'crew' });
    await until(() => bobLaptop.inbox.state.get().unreadCount === 1);

    // Filters and all read.
    await bobPhone.inbox.load('reactions');
    expect(bobPhone.inbox.state.get().items).toEqual([]);
    await bobPhone.inbox.load('mentions');
    expect(bobPhone.inbox.state.get().items.map((i) => i.message_id)).toEqual([g.id, m.id]);
    await bobPhone.inbox.markAllRead();
    await until(() => bobLaptop.inbox.state.get().unreadCount === 0);
    expect(await bobLaptop.inbox.count()).toBe(0);

    // Bad input is a typed error.
    await expect(bobPhone.inbox.markRead('00000000-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(bobPhone.groups.create({ handle: 'nope', name: 'No' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('drops an item an edit took back, on every device; a note mention arrives with its note', async () => {
    const alice = await bed.connect('alice');
    const bobPhone = await bed.connect('bob');
    const bobLaptop = await bed.connect('bob');
    const ch = alice.channel('group', 'sdk-inbox-edits');
    await ch.createChannel({ members: ['bob'], name: 'Edits' });
    for (const c of [bobPhone, bobLaptop]) await c.inbox.load();
    const before = bobPhone.inbox.state.get().unreadCount;

    const m = await ch.sendMessage({ text: 'no names yet' });
    await ch.updateMessage(m.id, 'now @bob is named');
    for (const c of [bobPhone, bobLaptop])
      await until(() => c.inbox.state.get().items.some((i) => i.message_id === m.id && i.kind === 'mention'));
    expect(bobLaptop.inbox.state.get().unreadCount).toBe(before + 1);
    await ch.updateMessage(m.id, 'names gone again');
    for (const c of [bobPhone, bobLaptop]) {
      await until(() => !c.inbox.state.get().items.some((i) => i.message_id === m.id));
      await until(() => c.inbox.state.get().unreadCount === before);
    }

    const note = await alice.notes.create({ cid: ch.cid, title: 'Plan', text: 'owner: @bob' });
    await until(() => bobPhone.inbox.state.get().items[0]?.note_id === note.id);
    expect(bobPhone.inbox.state.get().items[0]).toMatchObject({ kind: 'note_mention', cid: ch.cid, actor_id: 'alice' });
    await until(() => bobPhone.inbox.state.get().items[0]?.note_title === 'Plan');
    await bobPhone.inbox.load('mentions');
    expect(bobPhone.inbox.state.get().items[0]).toMatchObject({ note_id: note.id, note_title: 'Plan' });
  });

  it('reading the channel on one device reads its mention item on every device, item by item', async () => {
    const alice = await bed.connect('alice');
    const bobPhone = await bed.connect('bob');
    const bobLaptop = await bed.connect('bob');
    const ch = alice.channel('group', 'sdk-inbox-reads');
    await ch.createChannel({ members: ['bob'], name: 'Reads' });
    const other = alice.channel('group', 'sdk-inbox-reads-2');
    await other.createChannel({ members: ['bob'], name: 'Reads 2' });
    await bobPhone.inbox.markAllRead();
    for (const c of [bobPhone, bobLaptop]) await c.inbox.load();
    const here = await ch.sendMessage({ text: 'look @bob' });
    const there = await other.sendMessage({ text: 'and here @bob' });
    for (const c of [bobPhone, bobLaptop]) await until(() => c.inbox.state.get().unreadCount === 2);
    await until(() => bobLaptop.inbox.state.get().items.filter((i) => !i.read).length === 2);

    // The phone opens the channel and reads it: on the laptop that item turns read, the other not.
    const phoneCh = bobPhone.channel('group', 'sdk-inbox-reads');
    await phoneCh.watch();
    await phoneCh.markRead();
    await until(() => bobLaptop.inbox.state.get().unreadCount === 1);
    await until(() => bobLaptop.inbox.state.get().items.find((i) => i.message_id === here.id)?.read === true);
    expect(bobLaptop.inbox.state.get().items.find((i) => i.message_id === there.id)?.read).toBe(false);
  });
});

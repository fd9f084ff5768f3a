/**
 * `createGroup`: a group made in one step with its first message. The creator's state and each
 * member's (through `channel.added`, with no fetch of history) hold the group with that
 * message; watching it then shows the message once; a group of one is GROUP_TOO_SMALL.
 */
import { describe, expect, it } from 'vitest';
import { ParleyError } from '../src/index.js';
import { serverHistory, testbed, until } from './setup.js';

const bed = testbed([
  { id: 'alice', username: 'alice', name: 'Alice' },
  { id: 'bob', username: 'bob', name: 'Bob' },
  { id: 'carol', username: 'carol', name: 'Carol' },
]);

describe('createGroup', () => {
  it('puts the group with its first message in the state of its creator and of each member', async () => {
    const alice = await bed.connect('alice');
    const bob = await bed.connect('bob');
    const ch = await alice.createGroup({ members: ['bob', 'carol'], name: 'Launch', text: 'Kick-off at 10' });
    const cid = ch.cid;
    expect(ch.state?.channel).toMatchObject({ name: 'Launch', last_seq: 1, last_message: { text: 'Kick-off at 10' } });
    expect(ch.state?.unreadCount).toBe(0);

    const seen = await until(() => bob.state.get().channels[cid], 10_000, "the group in bob's state");
    if (!seen) throw new Error('unreachable: until() returns a truthy value');
    expect(seen.channel).toMatchObject({ name: 'Launch', last_message: { text: 'Kick-off at 10', seq: 1 } });
    expect(seen.unreadCount).toBe(1);
    expect(bob.state.get().channelList).toContain(cid);

    const watched = await bob.channel('group', ch.id as string).watch();
    expect(watched.messages.map((m) => m.text)).toEqual(['Kick-off at 10']);
    expect((await serverHistory(bed.h, bed.app, cid, 'carol')).map((m) => m.text)).toEqual(['Kick-off at 10']);
  });

  it('is refused for a group of one, and the same messageId twice makes one group', async () => {
    const alice = await bed.connect('alice');
    const err = await alice.createGroup({ members: [], text: 'just me' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe('GROUP_TOO_SMALL');

    const messageId = '0192f0c8-8f3a-7c2b-9d4e-5a6b7c8d9e0f';
    const a = await alice.createGroup({ members: ['carol'], text: 'once', messageId });
    const b = await alice.createGroup({ members: ['carol'], text: 'once', messageId });
    expect(b.cid).toBe(a.cid);
  });
});

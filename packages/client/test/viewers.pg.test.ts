/**
 * Who is viewing, in the SDK: `channel.setViewing` and `client.viewers` — the others' views
 * arrive live, a view moves and ends, the declared device kind shows, a reconnect leaves the
 * list exact (the view is sent again), and a channel one may not read is not viewed.
 */
import { describe, expect, it } from 'vitest';
import { testbed, until } from './setup.js';

const bed = testbed(['ada', 'bob', 'cy'].map((id) => ({ id, name: id })));

const ids = (list: readonly { user_id: string }[] | undefined) => (list ?? []).map((v) => v.user_id);

describe('viewers in the SDK', () => {
  it('views live, moves, ends, and stays exact across a reconnect', async () => {
    const ada = await bed.connect('ada');
    const bob = await bed.connect('bob', { device: 'mobile' });
    const a = ada.channel('group', 'looking');
    await a.createChannel({ members: ['bob'] });
    await a.watch();
    const b = bob.channel('group', 'looking');
    await b.watch();
    const cid = 'group:looking';

    a.setViewing(true);
    await until(() => ids(bob.viewers.state.get()[cid]).includes('ada'), 10_000, 'bob sees ada viewing');
    expect(ada.viewers.viewing).toBe(cid);
    b.setViewing(true);
    await until(() => ada.viewers.othersViewing(cid).length === 1, 10_000, 'ada sees bob viewing');
    expect(ada.viewers.othersViewing(cid)).toEqual([{ user_id: 'bob', devices: ['mobile'] }]);
    expect(ids(ada.viewers.state.get()[cid])).toEqual(['ada', 'bob']);

    // Bob's connection drops: on the new one his view is sent again; Ada's list is bob again,
    // and bob's own list comes back exact from the answer.
    // Every list Ada's state held (the store may coalesce changes of one tick, never skip a frame's).
    const seen: string[] = [];
    const stop = ada.on('viewers.changed', (e) => {
      if (e.type === 'viewers.changed' && e.cid === cid) seen.push(ids(e.viewers).join());
    });
    bob.dropConnection();
    await until(() => seen.includes('ada') && seen.at(-1) === 'ada,bob', 10_000, 'bob gone, then back after resync');
    stop();
    expect(ada.viewers.othersViewing(cid)).toEqual([{ user_id: 'bob', devices: ['mobile'] }]);
    await until(() => ids(bob.viewers.state.get()[cid]).join() === 'ada,bob', 10_000, 'bob’s list exact again');

    // Bob hides the view: Ada sees nobody else. setViewing(false) of another channel changes nothing.
    bob.channel('group', 'elsewhere').setViewing(false);
    expect(bob.viewers.viewing).toBe(cid);
    b.setViewing(false);
    await until(() => ada.viewers.othersViewing(cid).length === 0, 10_000, 'bob stopped viewing');
    expect(bob.viewers.viewing).toBeNull();
  });

  it('presence carries the kinds of device a user is on (the subscribe answer, then each change)', async () => {
    const ada = await bed.connect('ada');
    const stop = ada.watchPresence(['cy']);
    // The follow in effect before cy connects (a user not met yet is in no state to update).
    await ada.request('ping', {});
    const cy = await bed.connect('cy', { device: 'desktop' });
    await until(() => ada.state.get().users.cy?.devices?.join() === 'desktop', 10_000, 'cy on the desktop app');
    expect(ada.state.get().users.cy?.presence).toBe('online');
    const cyPhone = await bed.connect('cy', { device: 'mobile' });
    await until(() => ada.state.get().users.cy?.devices?.join() === 'desktop,mobile', 10_000, 'and on her phone');
    // A new follower learns them from the subscribe's answer.
    const bob = await bed.connect('bob');
    // Bob knows cy (as a member of a group of theirs): an answer updates users the state holds.
    const together = bob.channel('group', 'bob-and-cy');
    await together.createChannel({ members: ['cy'] });
    await together.watch();
    const stopBob = bob.watchPresence(['cy']);
    await until(() => bob.state.get().users.cy?.devices?.join() === 'desktop,mobile', 10_000, 'bob learns them');
    await cyPhone.disconnectUser();
    await until(() => ada.state.get().users.cy?.devices?.join() === 'desktop', 10_000, 'the phone gone');
    await cy.disconnectUser();
    await until(() => ada.state.get().users.cy?.presence === 'offline', 10_000, 'cy offline');
    expect(ada.state.get().users.cy?.devices).toEqual([]);
    stop();
    stopBob();
  });

  it('a channel one may not read is not viewed', async () => {
    const ada = await bed.connect('ada');
    const cy = await bed.connect('cy');
    const a = ada.channel('group', 'private-view');
    await a.createChannel({ members: ['bob'] });
    await a.watch();
    a.setViewing(true);
    await until(() => ids(ada.viewers.state.get()['group:private-view']).includes('ada'), 10_000, 'ada views');
    await expect(cy.request('channel.view', { cid: 'group:private-view' })).rejects.toMatchObject({
      code: expect.stringMatching(/^(FORBIDDEN|NOT_FOUND)$/),
    });
    cy.channel('group', 'private-view').setViewing(true);
    await cy.request('ping', {});
    expect(ada.viewers.othersViewing('group:private-view')).toEqual([]);
  });
});

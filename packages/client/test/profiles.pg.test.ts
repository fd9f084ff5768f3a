/**
 * Profiles through the SDK: `user.updated` keeps `state.users` live for everyone who shares a
 * channel, without a watch or a presence follow, and custom field values read with
 * `profiles.get` survive the event (which carries none).
 */
import { describe, expect, it } from 'vitest';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
  { id: 'boss', name: 'Boss', role: 'admin' },
]);

describe('profiles in the SDK', () => {
  it("updates a channel partner's profile in state live, keeping custom field values", async () => {
    const alice = await bed.connect('alice');
    const bob = await bed.connect('bob');
    const boss = await bed.connect('boss');
    await alice.channel('group', 'pair').createChannel({ members: ['bob'], name: 'Pair' });

    const team = await boss.profiles.createField({ name: 'Team', kind: 'choice', options: ['Core', 'Web'] });
    await alice.profiles.setFields('alice', { [team.id]: 'Core' });
    const seen = await bob.profiles.get('alice');
    expect(seen.fields).toEqual({ [team.id]: 'Core' });
    expect(bob.state.get().users.alice?.fields).toEqual({ [team.id]: 'Core' });

    await alice.updateMe({ title: 'Engineer', pronouns: 'she/her', time_zone: 'Asia/Kolkata' });
    await until(() => bob.state.get().users.alice?.title === 'Engineer', 5000, 'bob sees the new title');
    const u = bob.state.get().users.alice;
    expect(u).toMatchObject({ pronouns: 'she/her', time_zone: 'Asia/Kolkata', name: 'Alice' });
    // The event had no `fields`: what Bob read stays.
    expect(u?.fields).toEqual({ [team.id]: 'Core' });
    // Alice's own state too.
    expect(alice.state.get().user?.title).toBe('Engineer');

    expect(await bob.profiles.usernameAvailable('alice2')).toEqual({ available: true });
    await alice.updateMe({ username: 'alice2' });
    expect(await bob.profiles.usernameAvailable('ALICE2')).toEqual({ available: false, reason: 'taken' });
    await until(() => bob.state.get().users.alice?.username === 'alice2', 5000, 'bob sees the username');
  });

  it('refuses what the server refuses, with typed errors', async () => {
    const alice = await bed.connect('alice');
    await expect(alice.updateMe({ time_zone: 'Moon/Tranquility' })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    await expect(alice.profiles.createField({ name: 'X', kind: 'text' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('an admin edits someone else', () => {
  it("profiles.update sets another's name and title; partners' state and the person's own follow live", async () => {
    const alice = await bed.connect('alice');
    const bob = await bed.connect('bob');
    const boss = await bed.connect('boss');
    await alice.channel('group', 'pair-edit').createChannel({ members: ['bob'], name: 'Pair edit' });

    const u = await boss.profiles.update('alice', { name: 'Alice Liddell', title: 'Explorer' });
    expect(u).toMatchObject({ id: 'alice', name: 'Alice Liddell', title: 'Explorer' });
    expect(boss.state.get().users.alice).toMatchObject({ name: 'Alice Liddell', title: 'Explorer' });
    await until(() => bob.state.get().users.alice?.name === 'Alice Liddell', 5000, 'bob sees the new name');
    // Alice's own user follows the event, not only her copy in `users`.
    await until(() => alice.state.get().user?.name === 'Alice Liddell', 5000, 'alice sees her new name');
    expect(alice.state.get().user?.title).toBe('Explorer');

    await boss.profiles.update('alice', { title: null });
    await until(() => bob.state.get().users.alice?.title === null, 5000, 'bob sees the title cleared');
  });

  it('a non-admin, an unknown user and a blank name are refused with typed errors', async () => {
    const bob = await bed.connect('bob');
    const boss = await bed.connect('boss');
    await expect(bob.profiles.update('alice', { name: 'Mallory' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(boss.profiles.update('nobody', { name: 'X' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(boss.profiles.update('alice', { name: '  ' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect((await bob.profiles.get('alice')).name).toBe('Alice Liddell');
  });
});

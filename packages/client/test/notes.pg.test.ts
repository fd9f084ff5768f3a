/**
 * Notes in the SDK: `client.notes` lists, creates and edits notes, keeps `state` live from the
 * socket (a channel note edited by someone else, a personal note from my other device), and
 * surfaces a colliding edit as CONFLICT with both texts (`conflictOf`).
 */
import { describe, expect, it } from 'vitest';
import { conflictOf, ParleyError } from '../src/index.js';
import { testbed, until } from './setup.js';

const bed = testbed([
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
]);
const connect = (userId: string) => bed.connect(userId);

describe('client.notes', () => {
  it('follows a channel note live, merges apart edits and reports a collision as CONFLICT', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await alice.channel('group', 'notes').createChannel({ members: ['bob'], name: 'Notes' });
    const note = await alice.notes.create({ cid: 'group:notes', title: 'Plan', text: 'one\ntwo\nthree' });
    expect(await bob.notes.list('group:notes')).toHaveLength(1);

    const a = await alice.notes.update(note.id, { base_version: 1, text: 'ONE\ntwo\nthree' });
    expect(a.merged).toBe(false);
    // Bob's list follows alice's edit.
    await until(() => bob.notes.state.get().channels['group:notes']?.[0]?.version === 2, 5000, 'bob sees v2');
    // Bob edits from version 1 (he had not looked): a different line, so merged.
    const b = await bob.notes.update(note.id, { base_version: 1, text: 'one\ntwo\nTHREE' });
    expect(b).toMatchObject({ merged: true, note: { version: 3, text: 'ONE\ntwo\nTHREE' } });

    // Both change line two from version 3: the second is refused, with both texts.
    await alice.notes.update(note.id, { base_version: 3, text: 'ONE\ntwo (alice)\nTHREE' });
    const err = await bob.notes.update(note.id, { base_version: 3, text: 'ONE\ntwo (bob)\nTHREE' }).catch((e) => e);
    expect(err).toBeInstanceOf(ParleyError);
    const c = conflictOf(err);
    expect(c).toMatchObject({ text: 'ONE\ntwo (bob)\nTHREE', note: { version: 4, text: 'ONE\ntwo (alice)\nTHREE' } });
    expect(conflictOf(new Error('x'))).toBeNull();

    const versions = await bob.notes.versions(note.id);
    expect(versions.map((v) => v.user_id)).toEqual(['alice', 'bob', 'alice', 'alice']);
    expect((await bob.notes.version(note.id, 1)).text).toBe('one\ntwo\nthree');
    expect((await bob.notes.search('alice')).map((n) => n.id)).toEqual([note.id]);
  });

  it('follows personal notes across my devices', async () => {
    const laptop = await connect('alice');
    const phone = await connect('alice');
    await phone.notes.list();
    const n = await laptop.notes.create({ title: 'Scratch', text: 'hello' });
    await until(() => phone.notes.state.get().personal.some((x) => x.id === n.id), 5000, 'the phone has it');
    await laptop.notes.remove(n.id);
    await until(() => !phone.notes.state.get().personal.some((x) => x.id === n.id), 5000, 'the phone drops it');
  });
});

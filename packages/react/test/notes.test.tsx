// @vitest-environment happy-dom
/**
 * NotesPanel and NoteEditor against a real server: create a channel note, edit it with the
 * Markdown preview, see another member's edit live, meet a conflict (both texts shown), keep
 * mine, and find both authors in the history.
 */
import type { ChatClient } from '@parley/client';
import { fireEvent, screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotesPanel } from '../src/index.js';
import { freshId, renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  [alice, bob] = await Promise.all([w.connect('alice'), w.connect('bob')]);
});
afterAll(async () => {
  await w?.close();
});

describe('NotesPanel', () => {
  it('creates, edits with a preview, shows a conflict with both texts, and lists both authors', async () => {
    const id = freshId('notes');
    const cid = `group:${id}`;
    await alice.channel('group', id).createChannel({ name: 'Notes', members: ['bob'] });
    renderFor(alice, <NotesPanel cid={cid} />);

    fireEvent.change(await screen.findByLabelText('New note title'), { target: { value: 'Plan' } });
    fireEvent.click(screen.getByRole('button', { name: 'New note' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    fireEvent.change(screen.getByLabelText('Note text (Markdown)'), { target: { value: '**bold** line\nsecond' } });
    // The preview renders Markdown as messages do.
    await waitFor(() => expect(document.querySelector('.parley-note__preview strong')?.textContent).toBe('bold'));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved.');
    const note = (await alice.notes.list(cid))[0];
    expect(note).toMatchObject({ title: 'Plan', text: '**bold** line\nsecond', version: 2 });
    if (!note) throw new Error('no note');

    // Alice starts editing the second line; Bob saves a change to the same line first.
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    fireEvent.change(screen.getByLabelText('Note text (Markdown)'), {
      target: { value: '**bold** line\nsecond (alice)' },
    });
    await bob.notes.update(note.id, { base_version: 2, text: '**bold** line\nsecond (bob)' });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('conflict-theirs').textContent).toBe('**bold** line\nsecond (bob)'));
    expect(screen.getByTestId('conflict-mine').textContent).toBe('**bold** line\nsecond (alice)');
    fireEvent.click(screen.getByRole('button', { name: 'Keep mine' }));
    await until(async () => (await alice.notes.get(note.id)).version === 4, 5000, 'mine saved');
    expect((await alice.notes.get(note.id)).text).toBe('**bold** line\nsecond (alice)');

    await screen.findByRole('button', { name: 'History' });
    fireEvent.click(screen.getByRole('button', { name: 'History' }));
    const history = await screen.findByRole('region', { name: 'History' });
    await waitFor(() => expect(history.querySelectorAll('li')).toHaveLength(4));
    expect(history.textContent).toContain('Bob Stone');
    expect(history.textContent).toContain('Alice Liddell');
  });
});

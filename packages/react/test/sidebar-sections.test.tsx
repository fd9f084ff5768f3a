// @vitest-environment happy-dom
/**
 * `<ChannelList sections>` and `<SavedList>` against a real server: a section made from the
 * list, rows moved by their keyboard menu and by drag and drop, Starred, collapse kept on the
 * server, a change from the user's other device shown live; saved items listed, set a
 * recurring due time, done.
 */
import type { ChatClient } from '@parley/client';
import { act, fireEvent, screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChannelList, SavedList } from '../src/index.js';
import { renderFor, until, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;
let bobPhone: ChatClient;

beforeAll(async () => {
  w = await world();
  alice = await w.connect('alice');
  for (const id of ['design', 'ops', 'random'])
    await alice.channel('public', id).createChannel({ name: id, members: ['bob'] });
  bob = await w.connect('bob');
  bobPhone = await w.connect('bob');
  await until(() => bob.state.get().channelList.length === 3, 10_000, 'bob sees three channels');
});

afterAll(async () => {
  await w?.close();
});

const cidsIn = (name: string) =>
  [...(screen.getByRole('listbox', { name }).querySelectorAll('[data-cid]') ?? [])].map((e) =>
    e.getAttribute('data-cid'),
  );
const row = (cid: string) => document.querySelector(`[data-cid="${cid}"]`) as HTMLElement;

describe('ChannelList with sections', () => {
  it('makes a section, moves rows by menu and by drag, stars, collapses — and follows the other device', async () => {
    renderFor(bob, <ChannelList sections onSelect={vi.fn()} />);
    await waitFor(() => expect(bob.sidebar.state.get().sidebar).not.toBeNull());
    expect(cidsIn('Channels').sort()).toEqual(['public:design', 'public:ops', 'public:random']);

    fireEvent.click(screen.getByRole('button', { name: '+ New section' }));
    const field = screen.getByLabelText('New section name');
    fireEvent.change(field, { target: { value: 'Projects' } });
    fireEvent.submit(field.closest('form') as HTMLFormElement);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Projects', exact: true } as never)).toBeTruthy());

    // The keyboard's way: Shift+F10 on a row opens its menu.
    row('public:ops').focus();
    fireEvent.keyDown(row('public:ops'), { key: 'F10', shiftKey: true });
    const menu = screen.getByRole('menu', { name: 'Options for ops' });
    expect(document.activeElement).toBe(within(menu).getAllByRole('menuitem')[0]);
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'Move to Projects' }));
    await waitFor(() => expect(cidsIn('Projects')).toEqual(['public:ops']));

    // The mouse's way: drag #design onto the Projects section, above #ops.
    const payload = { setData: () => {}, getData: () => '', effectAllowed: 'move' };
    fireEvent.dragStart(row('public:design'), { dataTransfer: payload });
    fireEvent.dragOver(row('public:ops'), { dataTransfer: payload, clientY: -1 });
    fireEvent.drop(row('public:ops'), { dataTransfer: payload });
    await waitFor(() => expect(cidsIn('Projects')).toEqual(['public:design', 'public:ops']));

    // Star #random from its ⋯ button.
    fireEvent.click(screen.getByRole('button', { name: 'Options for random' }));
    fireEvent.click(screen.getByRole('menuitem', { name: 'Star' }));
    await waitFor(() => expect(cidsIn('Starred')).toEqual(['public:random']));
    expect(screen.queryByRole('listbox', { name: 'Channels' })).toBeNull();

    // Collapse is kept on the server: the other device has it too.
    fireEvent.click(screen.getByRole('button', { name: 'Projects', exact: true } as never));
    await waitFor(() => expect(screen.queryByRole('listbox', { name: 'Projects' })).toBeNull());
    await bobPhone.sidebar.load();
    expect(bobPhone.sidebar.state.get().sidebar?.sections.find((s) => s.name === 'Projects')?.collapsed).toBe(true);

    // A change on the other device shows here, live: sort by name, expanded, renamed.
    const projects = bobPhone.sidebar.state.get().sidebar?.sections.find((s) => s.name === 'Projects');
    await act(() => bobPhone.sidebar.updateSection(projects?.id as string, { collapsed: false, name: 'Work' }));
    await waitFor(() => expect(cidsIn('Work')).toEqual(['public:design', 'public:ops']));

    // The section's menu: move it above Starred, then delete it (its rows go back to Channels).
    fireEvent.click(screen.getByRole('button', { name: 'Work section options' }));
    fireEvent.click(screen.getByRole('menuitem', { name: 'Move section up' }));
    await waitFor(() =>
      expect([...document.querySelectorAll('.parley-channel-list__title')].map((e) => e.textContent)).toEqual([
        'Work',
        '★ Starred',
      ]),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Work section options' }));
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete section' }));
    await waitFor(() => expect(cidsIn('Channels').sort()).toEqual(['public:design', 'public:ops']));
  });

  it('drags a section by its header above another, kept on the server and live on the other device', async () => {
    renderFor(bob, <ChannelList sections onSelect={vi.fn()} />);
    await act(() => bob.sidebar.createSection('Later'));
    const titles = () => [...document.querySelectorAll('.parley-channel-list__title')].map((e) => e.textContent);
    await waitFor(() => expect(titles()).toEqual(['★ Starred', 'Later', 'Channels']));
    const head = (name: string) =>
      [...document.querySelectorAll('.parley-channel-list__head')].find((h) =>
        h.textContent?.includes(name),
      ) as HTMLElement;
    const section = (name: string) => head(name).closest('[data-section]') as HTMLElement;
    expect(head('Later').getAttribute('draggable')).toBe('true');
    // The default groups are not sections: not draggable.
    expect(head('Channels').getAttribute('draggable')).toBeNull();
    const data = new Map<string, string>();
    const payload = {
      setData: (k: string, v: string) => data.set(k, v),
      getData: (k: string) => data.get(k) ?? '',
      effectAllowed: 'move',
    };
    fireEvent.dragStart(head('Later'), { dataTransfer: payload });
    expect(data.get('application/x-parley-section')).toBeTruthy();
    // Over Starred's upper half (happy-dom's boxes are empty: y -1 is above the middle).
    fireEvent.dragOver(section('Starred'), { dataTransfer: payload, clientY: -1 });
    expect(section('Starred').className).toContain('parley-channel-list__section--drop-above');
    fireEvent.drop(section('Starred'), { dataTransfer: payload });
    await waitFor(() => expect(titles()).toEqual(['Later', '★ Starred', 'Channels']));
    // The other device follows, live (sidebar.updated).
    await until(
      () =>
        bobPhone.sidebar.state
          .get()
          .sidebar?.sections.map((s) => s.name)
          .join() === 'Later,Starred',
      10_000,
      'the phone sees the new order',
    );
    // Dropped on itself: nothing changes, nothing is sent.
    fireEvent.dragStart(head('Later'), { dataTransfer: payload });
    fireEvent.dragOver(section('Later'), { dataTransfer: payload, clientY: -1 });
    fireEvent.drop(section('Later'), { dataTransfer: payload });
    expect(titles()).toEqual(['Later', '★ Starred', 'Channels']);
  });
});

describe('SavedList', () => {
  it('lists saved messages, sets a recurring due time, and marks them done', async () => {
    const m = await alice.channel('public', 'design').sendMessage({ text: 'the logo files' });
    await bobPhone.saved.save(m.id);
    const onOpen = vi.fn();
    renderFor(bob, <SavedList onOpen={onOpen} />);
    const list = await screen.findByRole('list', { name: 'Saved messages' });
    const item = await within(list).findByText('the logo files');
    const li = item.closest('li') as HTMLElement;
    expect(li.textContent).toContain('#design');
    expect(li.textContent).toContain('Alice Liddell');
    fireEvent.click(within(li).getByRole('button', { name: 'Remind me' }));
    fireEvent.click(within(li).getByRole('button', { name: 'Every week from tomorrow' }));
    await waitFor(() => expect(li.textContent).toContain('every week'));
    fireEvent.click(within(li).getByRole('button', { name: 'Open' }));
    expect(onOpen).toHaveBeenCalledWith(expect.objectContaining({ message_id: m.id, cid: 'public:design' }));
    fireEvent.click(within(li).getByRole('button', { name: 'Done' }));
    await screen.findByText(/Nothing saved/);
    // The other device learns it is done too.
    await until(() => !bobPhone.saved.isSaved(m.id), 10_000, 'the phone hears it');
  });
});

// @vitest-environment happy-dom
/**
 * The profile card: names, title, pronouns, local time, about, phone, custom fields (only those
 * the server let through, named by their definitions), links http/https only, and a live update
 * when the person changes their profile.
 */
import type { ChatClient } from '@parley/client';
import { screen, within } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTime, UserProfileCard } from '../src/index.js';
import { renderFor, waitFor, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
let alice: ChatClient;
let bob: ChatClient;

beforeAll(async () => {
  w = await world();
  await w.h.users(w.app, [{ id: 'admin', name: 'Admin', role: 'admin' }]);
  alice = await w.connect('alice');
  bob = await w.connect('bob');
  await alice.channel('group', 'card').createChannel({ members: ['bob'], name: 'Card' });
});
afterAll(async () => {
  await w?.close();
});

/**
 * The card's local time is its clock's, which turns with each minute: the minute of a moment
 * between a little before `before` (its tick may come late on a busy machine) and now. Comparing
 * with the minute before the render alone failed at :59; with that or now, when the tick was late.
 */
function expectLocalTime(card: HTMLElement, zone: string, before: Date): void {
  const shown = card.querySelector('.parley-profile__local-time')?.textContent;
  const moments = [new Date(before.getTime() - 30_000), before, new Date()];
  expect(moments.map((d) => `${localTime(zone, d)} local time`)).toContain(shown);
}

describe('UserProfileCard', () => {
  it("shows a person's profile and custom fields, and follows their changes live", async () => {
    const admin = await w.connect('admin');
    const team = await admin.profiles.createField({ name: 'Team', kind: 'text' });
    const site = await admin.profiles.createField({ name: 'Site', kind: 'link' });
    const secret = await admin.profiles.createField({ name: 'Badge', kind: 'text', visibility: 'admins' });
    await admin.profiles.setFields('alice', { [secret.id]: 'B-1234' });
    await alice.updateMe({
      full_name: 'Alice Pleasance Liddell',
      title: 'Staff Engineer',
      pronouns: 'she/her',
      about: 'Down the rabbit hole.',
      phone: '+44 1865 270000',
      time_zone: 'Pacific/Auckland',
    });
    await alice.profiles.setFields('alice', { [team.id]: 'Core', [site.id]: 'https://alice.example/wonder' });

    const [user, fields] = await Promise.all([bob.profiles.get('alice'), bob.profiles.fields()]);
    expect(fields.map((f) => f.name)).toEqual(['Team', 'Site']);
    const aucklandBefore = new Date();
    renderFor(
      bob,
      <UserProfileCard userId="alice" user={user} fields={fields} actions={<button type="button">Message</button>} />,
    );

    const card = screen.getByRole('region', { name: /Alice Liddell/ });
    const c = within(card);
    expect(c.getByText('(she/her)')).toBeTruthy();
    expect(c.getByText('Alice Pleasance Liddell')).toBeTruthy();
    expect(c.getByText('Staff Engineer')).toBeTruthy();
    expect(c.getByText('Down the rabbit hole.')).toBeTruthy();
    expectLocalTime(card, 'Pacific/Auckland', aucklandBefore);
    expect(c.getByText('Core')).toBeTruthy();
    const link = c.getByRole('link', { name: 'alice.example/wonder' });
    expect(link.getAttribute('href')).toBe('https://alice.example/wonder');
    expect(link.getAttribute('rel')).toContain('noopener');
    expect(c.getByRole('link', { name: '+44 1865 270000' }).getAttribute('href')).toBe('tel:+441865270000');
    expect(c.getByRole('button', { name: 'Message' })).toBeTruthy();
    // The admins-only value never reached Bob, so it cannot be on the card.
    expect(card.textContent).not.toContain('B-1234');
    expect(card.textContent).not.toContain('Badge');

    const laBefore = new Date();
    await alice.updateMe({ title: 'Principal Engineer', time_zone: 'America/Los_Angeles' });
    await waitFor(() => expect(c.getByText('Principal Engineer')).toBeTruthy());
    expectLocalTime(card, 'America/Los_Angeles', laBefore);
    // Custom fields read before stay on the card (user.updated carries none).
    expect(c.getByText('Core')).toBeTruthy();
  });

  it('shows nothing it should not: an unsafe link as text, no local time without a zone', async () => {
    const admin = await w.connect('admin');
    const fields = await admin.profiles.fields();
    const site = fields.find((f) => f.name === 'Site');
    expect(site).toBeDefined();
    const user = {
      ...(await bob.profiles.get('bob')),
      fields: { [site?.id as string]: 'javascript:alert(1)' },
    };
    renderFor(bob, <UserProfileCard userId="bob" user={user} fields={fields} />);
    const card = screen.getByRole('region', { name: /Bob Stone/ });
    expect(within(card).queryByRole('link')).toBeNull();
    expect(card.querySelector('.parley-profile__local-time')).toBeNull();
  });
});

describe('localTime', () => {
  it('formats the time in a zone, and gives null for an unknown one', () => {
    const at = new Date('2026-01-15T12:34:00Z');
    expect(localTime('Asia/Tokyo', at, 'en-US')).toBe('9:34 PM');
    expect(localTime('UTC', at, 'en-US')).toBe('12:34 PM');
    expect(localTime('Nowhere/Land', at)).toBeNull();
    expect(localTime(null, at)).toBeNull();
  });
});

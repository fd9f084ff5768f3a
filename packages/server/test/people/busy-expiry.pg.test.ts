/**
 * Busy and status expiries announced when they happen: a pause of do-not-disturb with an end
 * (`presence.set busy` with `until`, the settings' `dnd_until`) and a custom status with an
 * `expires_at` are each cleared by a job due at that instant, and a daily DND window's closing
 * is announced by a job due at that minute. The presence busy sweep is set to ten minutes here,
 * so an announcement that comes at all came from the job; each is checked not to come before its
 * time (its `created_at`), and a pause changed meanwhile is announced only at its new end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, QUIET, startHarness, type TestSocket } from '../harness.js';
import { makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;
/** The server's clock runs this far ahead of the machine's (the window test moves it next to a minute's end). */
let offset = 0;

beforeAll(async () => {
  // The sweep this replaces, out of the way: ten minutes.
  h = await startHarness(
    { ...QUIET, presenceGraceMs: 100, busyCheckMs: 600_000 },
    { clock: () => Date.now() + offset },
  );
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
  await w.channel('alice', 'group', 'expiry', ['bob']);
});
afterEach(async () => {
  await w.closeSockets();
  await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_until: null, dnd_schedule: null });
  await w.rest('alice', 'POST', '/v1/me/status', { text: null });
});
afterAll(async () => {
  await h.close();
});

/** Alice's presence.changed frames `s` heard. */
const alices = (s: TestSocket) => s.events('presence.changed').filter((f) => f.user.id === 'alice');
const follow = async (s: TestSocket) => {
  const r = await s.request('presence.subscribe', { user_ids: ['alice'] });
  expect(r.ok, JSON.stringify(r)).toBe(true);
};
/** Long enough to see the busy state first, short enough for a test: the job's due time. */
const soon = (ms = 1_500) => new Date(Date.now() + ms);

describe('expiries announced at their time', () => {
  it('busy chosen until a time turns back to online by the job, with the sweep ten minutes away', async () => {
    const alice = await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob);
    const until = soon();
    expect((await alice.request('presence.set', { presence: 'busy', until: until.toISOString() })).presence).toBe(
      'busy',
    );
    await eventually(() => alices(bob).at(-1)?.presence === 'busy');
    const back = await bob.waitFor(
      (f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'online',
      20_000,
    );
    // Not before its time, and after the busy it ends.
    expect(Date.parse(back.created_at)).toBeGreaterThanOrEqual(until.getTime());
    expect(alices(bob).map((f) => f.presence)).toEqual(['busy', 'online']);
    expect((await w.rest('bob', 'GET', '/v1/users/alice')).body.user.presence).toBe('online');
    // Alice's own socket hears it too.
    await alice.waitFor((f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'online');
  });

  it('a pause set in the notification settings ends at its time; one moved later ends only then', async () => {
    await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob);
    const first = soon(1_000);
    expect(
      (await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_until: first.toISOString() })).status,
    ).toBe(200);
    await eventually(() => alices(bob).at(-1)?.presence === 'busy');
    // Moved later before it ran out: the first job finds its pause gone and says nothing.
    const second = soon(2_500);
    expect(
      (await w.rest('alice', 'PATCH', '/v1/notifications/settings', { dnd_until: second.toISOString() })).status,
    ).toBe(200);
    const back = await bob.waitFor(
      (f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'online',
      20_000,
    );
    expect(Date.parse(back.created_at)).toBeGreaterThanOrEqual(second.getTime());
    expect((await w.rest('alice', 'GET', '/v1/notifications/settings')).body.settings.dnd_active).toBe(false);
  });

  it('a custom status is cleared, and said to followers, at its expiry', async () => {
    await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob);
    const expires = soon();
    const set = await w.rest('alice', 'POST', '/v1/me/status', {
      text: 'In a meeting',
      emoji: '📅',
      expires_at: expires.toISOString(),
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    await eventually(() => alices(bob).at(-1)?.user.status?.text === 'In a meeting');
    const cleared = await bob.waitFor(
      (f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.user.status == null,
      20_000,
    );
    expect(Date.parse(cleared.created_at)).toBeGreaterThanOrEqual(expires.getTime());
    expect((await w.rest('bob', 'GET', '/v1/users/alice')).body.user.status ?? null).toBeNull();
  });

  it('a daily DND window closing is announced at its minute, by the job its saving made', async () => {
    await w.socket('alice');
    const bob = await w.socket('bob');
    await follow(bob);
    // The server's clock a few seconds before a whole minute M; the window is the hour up to M.
    const real = Date.now();
    const m = Math.ceil((real + 60_000) / 60_000) * 60_000;
    offset = m - 3_000 - real;
    const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
    try {
      const r = await w.rest('alice', 'PATCH', '/v1/notifications/settings', {
        time_zone: 'UTC',
        dnd_schedule: { start: hhmm(m - 3_600_000), end: hhmm(m) },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.settings.dnd_active).toBe(true);
      await eventually(() => alices(bob).at(-1)?.presence === 'busy');
      const back = await bob.waitFor(
        (f) => f.type === 'presence.changed' && f.user.id === 'alice' && f.presence === 'online',
        20_000,
      );
      // M on the machine's clock is M - offset.
      expect(Date.parse(back.created_at)).toBeGreaterThanOrEqual(m - offset);
      expect(alices(bob).map((f) => f.presence)).toEqual(['busy', 'online']);
    } finally {
      offset = 0;
    }
  });
});

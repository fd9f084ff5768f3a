import { describe, expect, it } from 'vitest';
import {
  collapseKeyOf,
  type DecideOptions,
  decidePush,
  inSchedule,
  isTimeZone,
  localClock,
  type MessageFacts,
  type Moment,
  type RecipientPrefs,
} from './decide.js';

const prefs = (p: Partial<RecipientPrefs> = {}): RecipientPrefs => ({
  level: 'mentions',
  channelLevel: null,
  muted: false,
  timeZone: 'UTC',
  dndUntil: null,
  dndSchedule: null,
  ...p,
});
const msg = (m: Partial<MessageFacts> = {}): MessageFacts => ({
  isAuthor: false,
  isDm: false,
  mentioned: false,
  inThread: false,
  ...m,
});
const NOW = new Date('2026-11-23T12:00:00Z'); // a Monday
const at = (a: Partial<Moment> = {}): Moment => ({
  now: NOW,
  active: false,
  unread: true,
  afterGrace: false,
  lastBurstAt: null,
  ...a,
});
const o: DecideOptions = { graceSeconds: 30, burstSeconds: 60 };

describe('decidePush', () => {
  it('never pushes the author', () => {
    expect(decidePush(prefs({ level: 'all' }), msg({ isAuthor: true, isDm: true }), at(), o)).toEqual({
      kind: 'skip',
      why: 'author',
    });
  });

  it('pushes a mention, a DM and a thread reply at the default level', () => {
    expect(decidePush(prefs(), msg({ mentioned: true }), at(), o)).toEqual({ kind: 'push', reason: 'mention' });
    expect(decidePush(prefs(), msg({ isDm: true }), at(), o)).toEqual({ kind: 'push', reason: 'dm' });
    expect(decidePush(prefs(), msg({ inThread: true }), at(), o)).toEqual({ kind: 'push', reason: 'thread' });
  });

  it('mentions-only skips a plain channel message; all pushes it', () => {
    expect(decidePush(prefs(), msg(), at(), o)).toEqual({ kind: 'skip', why: 'level' });
    expect(decidePush(prefs({ level: 'all' }), msg(), at(), o)).toEqual({ kind: 'push', reason: 'message' });
  });

  it('none pushes nothing, not even a DM', () => {
    expect(decidePush(prefs({ level: 'none' }), msg({ isDm: true, mentioned: true }), at(), o)).toEqual({
      kind: 'skip',
      why: 'level',
    });
  });

  it('the channel override wins over the default, both ways', () => {
    expect(decidePush(prefs({ level: 'all', channelLevel: 'none' }), msg({ mentioned: true }), at(), o).kind).toBe(
      'skip',
    );
    expect(decidePush(prefs({ level: 'none', channelLevel: 'all' }), msg(), at(), o)).toEqual({
      kind: 'push',
      reason: 'message',
    });
    expect(decidePush(prefs({ level: 'all', channelLevel: 'mentions' }), msg(), at(), o).kind).toBe('skip');
  });

  it('a muted channel never pushes, even a mention', () => {
    expect(decidePush(prefs({ muted: true, level: 'all' }), msg({ mentioned: true }), at(), o)).toEqual({
      kind: 'skip',
      why: 'muted',
    });
  });

  it('a message already read is not pushed', () => {
    expect(decidePush(prefs(), msg({ isDm: true }), at({ unread: false }), o)).toEqual({ kind: 'skip', why: 'read' });
  });

  it('do-not-disturb until a time holds until then, and not after', () => {
    const p = prefs({ dndUntil: new Date(NOW.getTime() + 60_000) });
    expect(decidePush(p, msg({ isDm: true }), at(), o)).toEqual({ kind: 'skip', why: 'dnd' });
    const later = new Date(NOW.getTime() + 120_000);
    expect(decidePush(p, msg({ isDm: true }), at({ now: later }), o).kind).toBe('push');
  });

  it('the DND schedule is read in the user time zone', () => {
    // 12:00 UTC is 21:00 in Tokyo and 07:00 in New York (EST).
    const sched = { start: '20:00', end: '08:00' };
    expect(decidePush(prefs({ dndSchedule: sched, timeZone: 'Asia/Tokyo' }), msg({ isDm: true }), at(), o).kind).toBe(
      'skip',
    );
    expect(
      decidePush(prefs({ dndSchedule: sched, timeZone: 'America/New_York' }), msg({ isDm: true }), at(), o).kind,
    ).toBe('skip');
    expect(decidePush(prefs({ dndSchedule: sched, timeZone: 'UTC' }), msg({ isDm: true }), at(), o).kind).toBe('push');
  });

  it('a user active on another device is asked again after the grace period, then pushed', () => {
    expect(decidePush(prefs(), msg({ isDm: true }), at({ active: true }), o)).toEqual({
      kind: 'later',
      reason: 'dm',
      afterSeconds: 30,
    });
    expect(decidePush(prefs(), msg({ isDm: true }), at({ active: true, afterGrace: true }), o)).toEqual({
      kind: 'push',
      reason: 'dm',
    });
    // Read meanwhile: nothing.
    expect(
      decidePush(prefs(), msg({ isDm: true }), at({ active: true, afterGrace: true, unread: false }), o).kind,
    ).toBe('skip');
  });

  it('one push per thread burst: the same collapse key within the window is skipped', () => {
    const recent = new Date(NOW.getTime() - 10_000);
    const old = new Date(NOW.getTime() - 61_000);
    expect(decidePush(prefs(), msg({ inThread: true }), at({ lastBurstAt: recent }), o)).toEqual({
      kind: 'skip',
      why: 'burst',
    });
    expect(decidePush(prefs(), msg({ inThread: true }), at({ lastBurstAt: old }), o).kind).toBe('push');
  });
});

describe('DND schedule', () => {
  it('a window across midnight belongs to the day it starts on', () => {
    const s = { start: '22:00', end: '08:00', days: [5] }; // Friday nights
    expect(inSchedule(s, 'UTC', new Date('2026-11-27T23:00:00Z'))).toBe(true); // Fri 23:00
    expect(inSchedule(s, 'UTC', new Date('2026-11-28T07:59:00Z'))).toBe(true); // Sat 07:59
    expect(inSchedule(s, 'UTC', new Date('2026-11-28T08:00:00Z'))).toBe(false); // Sat 08:00
    expect(inSchedule(s, 'UTC', new Date('2026-11-27T07:00:00Z'))).toBe(false); // Fri 07:00 (Thu night)
  });

  it('a same-day window', () => {
    const s = { start: '09:00', end: '17:00' };
    expect(inSchedule(s, 'Europe/Berlin', new Date('2026-11-23T07:59:00Z'))).toBe(false); // 08:59
    expect(inSchedule(s, 'Europe/Berlin', new Date('2026-11-23T08:00:00Z'))).toBe(true); // 09:00
    expect(inSchedule(s, 'Europe/Berlin', new Date('2026-11-23T16:00:00Z'))).toBe(false); // 17:00
  });

  it('knows time zones and falls back to UTC for an unknown one', () => {
    expect(isTimeZone('Asia/Kolkata')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(localClock('Asia/Kolkata', NOW)).toEqual({ day: 1, minute: 17 * 60 + 30 });
    expect(localClock('Mars/Olympus', NOW)).toEqual({ day: 1, minute: 12 * 60 });
  });
});

describe('collapseKeyOf', () => {
  it('is per thread for replies and per channel otherwise', () => {
    expect(collapseKeyOf('public:general', null)).toBe('public:general');
    expect(collapseKeyOf('public:general', 'abc')).toBe('public:general/abc');
  });
});

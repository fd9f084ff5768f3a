import { describe, expect, it } from 'vitest';
import { nextWindowChange } from './dnd-end.js';

const at = (iso: string) => new Date(iso);
const next = (s: { start: string; end: string; days?: number[] }, tz: string, now: string) =>
  nextWindowChange(s, tz, at(now))?.toISOString() ?? null;

describe('the next opening or closing of a daily DND window', () => {
  it('is the start ahead when outside, the end ahead when inside, across midnight too', () => {
    const night = { start: '22:00', end: '08:00' };
    // 2026-11-30 is a Monday.
    expect(next(night, 'UTC', '2026-11-30T21:30:10Z')).toBe('2026-11-30T22:00:00.000Z');
    expect(next(night, 'UTC', '2026-11-30T23:00:00Z')).toBe('2026-12-01T08:00:00.000Z');
    expect(next(night, 'UTC', '2026-12-01T07:59:59Z')).toBe('2026-12-01T08:00:00.000Z');
    // Exactly at a change: the one after it.
    expect(next(night, 'UTC', '2026-12-01T08:00:00Z')).toBe('2026-12-01T22:00:00.000Z');
  });

  it('skips the days the window does not start on', () => {
    // Mondays only, 09:00–17:00; asked on a Tuesday morning: next Monday.
    expect(next({ start: '09:00', end: '17:00', days: [1] }, 'UTC', '2026-12-01T10:00:00Z')).toBe(
      '2026-12-07T09:00:00.000Z',
    );
    // A Friday night window ends on Saturday morning.
    expect(next({ start: '22:00', end: '08:00', days: [5] }, 'UTC', '2026-12-04T23:00:00Z')).toBe(
      '2026-12-05T08:00:00.000Z',
    );
  });

  it('reads the window in the user’s time zone, and is null for a window on no day', () => {
    // 08:30 in Paris (UTC+1 in winter): the 09:00 start is 08:00 UTC.
    expect(next({ start: '09:00', end: '17:00' }, 'Europe/Paris', '2026-11-30T07:30:00Z')).toBe(
      '2026-11-30T08:00:00.000Z',
    );
    // Kathmandu is UTC+5:45.
    expect(next({ start: '09:00', end: '17:00' }, 'Asia/Kathmandu', '2026-11-30T03:00:00Z')).toBe(
      '2026-11-30T03:15:00.000Z',
    );
    expect(next({ start: '09:00', end: '17:00', days: [] }, 'UTC', '2026-11-30T03:00:00Z')).toBeNull();
  });
});

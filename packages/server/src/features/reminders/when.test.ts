import { describe, expect, it } from 'vitest';
import { dueTime, nextOccurrence } from './when.js';

describe('reminder times', () => {
  const now = Date.parse('2026-11-23T22:30:00Z');
  it('reads presets relative to now', () => {
    expect(dueTime(now, undefined, '20m').toISOString()).toBe('2026-11-23T22:50:00.000Z');
    expect(dueTime(now, undefined, '1h').toISOString()).toBe('2026-11-23T23:30:00.000Z');
    expect(dueTime(now, undefined, '2d').toISOString()).toBe('2026-11-25T22:30:00.000Z');
  });
  it('takes tomorrow as 9:00 the next day where the caller is', () => {
    expect(dueTime(now, undefined, 'tomorrow').toISOString()).toBe('2026-11-24T09:00:00.000Z');
    // UTC-5 (offset +300): 17:30 there, tomorrow 9:00 there is 14:00 UTC.
    expect(dueTime(now, undefined, 'tomorrow', 300).toISOString()).toBe('2026-11-24T14:00:00.000Z');
    // UTC+9 (offset -540): already 7:30 on the 24th there, so 9:00 on the 25th = 00:00 UTC.
    expect(dueTime(now, undefined, 'tomorrow', -540).toISOString()).toBe('2026-11-25T00:00:00.000Z');
  });
  it('refuses the past, the far future and both or neither', () => {
    expect(() => dueTime(now, '2026-11-20T00:00:00Z', undefined)).toThrow(/passed/);
    expect(() => dueTime(now, '2028-11-20T00:00:00Z', undefined)).toThrow(/year/);
    expect(() => dueTime(now, undefined, undefined)).toThrow(/exactly one/);
    expect(() => dueTime(now, '2026-11-24T00:00:00Z', '1h')).toThrow(/exactly one/);
  });

  it('finds the next occurrence of a recurring reminder', () => {
    // 2026-11-23 is a Monday; 2026-11-27 a Friday.
    const mon = new Date('2026-11-23T09:00:00Z');
    expect(nextOccurrence(mon, 'daily', 0, mon.getTime()).toISOString()).toBe('2026-11-24T09:00:00.000Z');
    expect(nextOccurrence(mon, 'weekly', 0, mon.getTime()).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    const fri = new Date('2026-11-27T09:00:00Z');
    expect(nextOccurrence(fri, 'weekdays', 0, fri.getTime()).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    // Friday 23:30 in UTC-5 is Saturday 04:30 UTC: the maker's Friday counts, not UTC's Saturday.
    const friLate = new Date('2026-11-28T04:30:00Z');
    expect(nextOccurrence(friLate, 'weekdays', 300, friLate.getTime()).toISOString()).toBe('2026-12-01T04:30:00.000Z');
    // A job that ran three days late skips what it missed.
    expect(nextOccurrence(mon, 'daily', 0, Date.parse('2026-11-26T10:00:00Z')).toISOString()).toBe(
      '2026-11-27T09:00:00.000Z',
    );
  });
});

/**
 * When a reminder is due: an absolute time, or a preset relative to now (`20m`, `1h`, `3d`,
 * `tomorrow` = 9:00 the next day in the caller's time zone).
 */
import { invalid } from '../../platform/errors.js';

const MAX_AHEAD_MS = 366 * 24 * 3600_000;

/**
 * The due time. `tzOffset` is the caller's `Date.getTimezoneOffset()` (minutes behind UTC),
 * 0 when not given.
 */
export function dueTime(now: number, at: string | undefined, inText: string | undefined, tzOffset = 0): Date {
  if ((at === undefined) === (inText === undefined)) throw invalid('Give exactly one of remind_at and in');
  let t: number;
  if (at !== undefined) t = Date.parse(at);
  else if (inText === 'tomorrow') {
    // The caller's wall clock now, as if it were UTC; its next day at 9:00; back to real UTC.
    const local = new Date(now - tzOffset * 60_000);
    const nine = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1, 9, 0, 0);
    t = nine + tzOffset * 60_000;
  } else {
    const m = /^(\d+)([mhd])$/.exec(inText as string);
    if (!m) throw invalid('in must be tomorrow or a number of m, h or d');
    const unit = { m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
    t = now + Number(m[1]) * unit;
  }
  if (!Number.isFinite(t)) throw invalid('remind_at is not a time');
  if (t < now - 60_000) throw invalid('That time has passed');
  if (t > now + MAX_AHEAD_MS) throw invalid('At most a year ahead');
  return new Date(Math.max(t, now));
}

/** How a reminder repeats. */
export type Repeat = 'daily' | 'weekdays' | 'weekly';

const DAY_MS = 86_400_000;

/**
 * The first occurrence after `now` of a reminder due at `from` that repeats: the same wall
 * time a day (or a week) later; `weekdays` skips Saturday and Sunday in the maker's time zone
 * (`tzOffset`, minutes behind UTC). A job that ran late skips the occurrences it missed rather
 * than firing them all at once.
 */
export function nextOccurrence(from: Date, repeat: Repeat, tzOffset: number, now: number): Date {
  let t = from.getTime();
  const step = repeat === 'weekly' ? 7 * DAY_MS : DAY_MS;
  do {
    t += step;
    if (repeat === 'weekdays') {
      // The maker's weekday: their wall clock, read as if it were UTC.
      while ([0, 6].includes(new Date(t - tzOffset * 60_000).getUTCDay())) t += DAY_MS;
    }
  } while (t <= now);
  return new Date(t);
}

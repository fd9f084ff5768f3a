import { afterEach, describe, expect, it } from 'vitest';
import { clockTime, dayLabel, fullTime, localTime } from '../src/format.js';

const RealFormat = Intl.DateTimeFormat;
afterEach(() => {
  Intl.DateTimeFormat = RealFormat;
});

/** Count the formatters made from here on (the kit's own calls included). */
function countMade(): { made: number } {
  const count = { made: 0 };
  Intl.DateTimeFormat = new Proxy(RealFormat, {
    construct(target, args) {
      count.made += 1;
      return Reflect.construct(target, args);
    },
  });
  return count;
}

describe('times in words', () => {
  const at = '2026-06-10T14:05:00Z';

  it('read as a formatter made afresh would', () => {
    expect(clockTime(at)).toBe(new RealFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(new Date(at)));
    expect(fullTime(at)).toBe(
      new RealFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(at)),
    );
    expect(localTime('Asia/Tokyo', new Date(at))).toBe(
      new RealFormat(undefined, { hour: 'numeric', minute: '2-digit', timeZone: 'Asia/Tokyo' }).format(new Date(at)),
    );
  });

  it('keep one formatter per kind and zone: a list of rows makes none after its first', () => {
    clockTime(at);
    fullTime(at);
    localTime('Europe/Paris', new Date(at));
    const count = countMade();
    for (let i = 0; i < 100; i++) {
      clockTime(at);
      fullTime(at);
      localTime('Europe/Paris', new Date(at));
    }
    expect(count.made).toBe(0);
    // Another zone is another formatter, kept apart: the times differ.
    expect(localTime('America/New_York', new Date(at))).not.toBe(localTime('Asia/Tokyo', new Date(at)));
  });

  it('an unknown zone is null every time, and "Today" needs no formatter', () => {
    expect(localTime('Not/A_Zone')).toBeNull();
    expect(localTime('Not/A_Zone')).toBeNull();
    expect(dayLabel(new Date().toISOString())).toBe('Today');
  });
});

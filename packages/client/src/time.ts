/**
 * Times in words, for the kits and apps built on the SDK (the React and React Native kits use
 * these, so a task's due time reads the same on the web and on the phone). No DOM: `Intl` only,
 * so the runtime's locale decides the words.
 */

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** Made on first use and kept (making one costs far more than a format). */
let words: Intl.RelativeTimeFormat | undefined;

/**
 * `iso` relative to `now` in the runtime's locale: "in 2 hours", "5 minutes ago", "yesterday";
 * "just now" within 45 seconds either way. The largest unit that fits, rounded.
 */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  words ??= new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const rtf = words;
  for (const [unit, size] of UNITS) {
    if (abs >= size || unit === 'minute') return rtf.format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

/**
 * Small formatting helpers shared by the components: names, dates, relative times. They use
 * the runtime's locale through `Intl`, so an app can localise by setting the page language.
 */
import type { DeviceKind, User } from '@parley/protocol';

/** A user's display name: name, else username, else id. */
export function displayName(user: Pick<User, 'name' | 'username'> | null | undefined, id: string): string {
  return user?.name?.trim() || user?.username || id;
}

/** Up to two initials for an avatar placeholder. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const second = parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/** A local calendar-day key (`YYYY-MM-DD`) for grouping by date. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${m}-${day}`;
}

/**
 * One `Intl.DateTimeFormat` per locale and options, made on first use and kept: making one
 * loads locale data and costs about as much as formatting a hundred dates, and a message list
 * formats two times a row each time it renders.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ''} ${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    dateFormats.set(key, format);
  }
  return format;
}

/** "Today", "Yesterday", or a long date (with the year only when it is not this year). */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return 'Today';
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (key === dayKey(y.toISOString())) return 'Yesterday';
  const d = new Date(iso);
  return dateFormat(undefined, {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    ...(d.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}),
  }).format(d);
}

/** A short clock time, e.g. "14:05" or "2:05 PM" depending on locale. */
export function clockTime(iso: string): string {
  return dateFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(new Date(iso));
}

/** A full date and time, for `title` tooltips. */
export function fullTime(iso: string): string {
  return dateFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(iso));
}

/** "in 2 hours", "5 minutes ago", "just now": the SDK's, so every kit says a time alike. */
export { relativeTime } from '@parley/client';

/** Join class names, skipping falsy ones. */
export function cx(...names: (string | false | null | undefined)[]): string {
  return names.filter(Boolean).join(' ');
}

/** Whether a URL is safe to load as an image or follow as a link: http(s) only (and mailto for links). */
export function isSafeUrl(url: string | null | undefined, allowMailto = false): url is string {
  if (!url) return false;
  return allowMailto ? /^(https?:|mailto:)/i.test(url.trim()) : /^https?:/i.test(url.trim());
}

/**
 * The time now in an IANA zone, as "3:42 PM" (the viewer's locale decides the clock), or null
 * when the zone is unknown to this browser (a name newer than its zone data).
 */
export function localTime(timeZone: string | null | undefined, now: Date = new Date(), locale?: string): string | null {
  if (!timeZone) return null;
  try {
    return dateFormat(locale, { hour: 'numeric', minute: '2-digit', timeZone }).format(now);
  } catch {
    return null;
  }
}

const DEVICE_LABEL: Record<DeviceKind, string> = { web: 'web', desktop: 'desktop app', mobile: 'phone' };

/** Where someone is connected, in words: "on web", "on desktop app and phone". */
export function devicesText(devices: readonly DeviceKind[]): string {
  const names = devices.map((d) => DEVICE_LABEL[d]);
  return names.length <= 1 ? `on ${names[0] ?? 'web'}` : `on ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

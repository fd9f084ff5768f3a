/** Text helpers of the kit: names, times, sizes, reaction glyphs (the React kit's, without the DOM). */
import type { User } from '@parley/protocol';

/** A user's display name: name, else username, else the id. */
export function displayName(user: Pick<User, 'name' | 'username'> | undefined | null, id = ''): string {
  return user?.name || user?.username || id;
}

/** Up to two initials for an avatar without a picture. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const a = parts[0]?.[0] ?? '?';
  const b = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return (a + b).toUpperCase();
}

const two = (n: number) => String(n).padStart(2, '0');

/** `14:05` in the device's time zone. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** "Today", "Yesterday", or the date, for the separators between days. */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const day = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(now) - day(d)) / 86_400_000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and Carol are typing…", "Several people are typing…". */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return 'Several people are typing…';
}

export { REACTION_EMOJI, reactionEmoji } from '@parley/client';

/** The reactions offered by default. */
export const DEFAULT_REACTIONS: readonly string[] = ['like', 'love', 'laugh', 'wow', 'sad', 'angry'];

/** 1.2 MB, 340 KB, 12 B. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** "in 2 hours", "5 minutes ago", "just now": the SDK's, so every kit says a time alike. */
export { relativeTime } from '@parley/client';

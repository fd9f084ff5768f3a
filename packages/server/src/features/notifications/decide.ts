/**
 * Who gets a push for a message, and when: one pure function of what the job read, so each
 * rule is tested on its own (decide.test.ts) and the job (jobs.ts) only gathers facts.
 *
 * The rules, in order (the first that applies wins):
 * 1. never the author;
 * 2. a muted channel never pushes;
 * 3. the level — the channel's override, else the user's default — `none` pushes nothing,
 *    `mentions` only mentions, DMs and replies in threads the user is in; `all` everything;
 * 4. a message already read (on any device) is not pushed;
 * 5. do-not-disturb: until a time, or the daily schedule in the user's time zone;
 * 6. a user active on any device now is not pushed at once: the job asks again after the
 *    grace period, and pushes then if the message is still unread;
 * 7. one notification per thread burst: a push with the same collapse key within the burst
 *    window is not repeated (the shown one is replaced by key on the device anyway).
 */
import type { DndSchedule, NotifyLevel } from '@parley/protocol';

export interface RecipientPrefs {
  level: NotifyLevel;
  /** The channel's override, or null for the user's default. */
  channelLevel: NotifyLevel | null;
  muted: boolean;
  timeZone: string;
  dndUntil: Date | null;
  dndSchedule: DndSchedule | null;
}

export interface MessageFacts {
  isAuthor: boolean;
  isDm: boolean;
  /** Mentioned by name, @here or @channel. */
  mentioned: boolean;
  /** A reply in a thread the recipient started or replied to. */
  inThread: boolean;
}

export interface Moment {
  now: Date;
  /** Connected on any device (any node) right now. */
  active: boolean;
  /** The message is after the recipient's read position. */
  unread: boolean;
  /** This is the second look, after the grace period. */
  afterGrace: boolean;
  /** When the last push with this message's collapse key went to the recipient. */
  lastBurstAt: Date | null;
}

export interface DecideOptions {
  graceSeconds: number;
  burstSeconds: number;
}

export type PushReason = 'dm' | 'mention' | 'thread' | 'message';

export type Decision =
  | { kind: 'push'; reason: PushReason }
  | { kind: 'later'; reason: PushReason; afterSeconds: number }
  | {
      kind: 'skip';
      why: 'author' | 'muted' | 'level' | 'read' | 'dnd' | 'burst';
    };

/** Why a message concerns the recipient, strongest first; null when only `all` lets it through. */
export function reasonOf(m: MessageFacts): PushReason | null {
  if (m.isDm) return 'dm';
  if (m.mentioned) return 'mention';
  if (m.inThread) return 'thread';
  return null;
}

export function decidePush(p: RecipientPrefs, m: MessageFacts, at: Moment, o: DecideOptions): Decision {
  if (m.isAuthor) return { kind: 'skip', why: 'author' };
  if (p.muted) return { kind: 'skip', why: 'muted' };
  const level = p.channelLevel ?? p.level;
  const why = reasonOf(m);
  if (level === 'none' || (level === 'mentions' && !why)) return { kind: 'skip', why: 'level' };
  const reason = why ?? 'message';
  if (!at.unread) return { kind: 'skip', why: 'read' };
  if (inDnd(p, at.now)) return { kind: 'skip', why: 'dnd' };
  if (at.active && !at.afterGrace && o.graceSeconds > 0) return { kind: 'later', reason, afterSeconds: o.graceSeconds };
  if (at.lastBurstAt && at.now.getTime() - at.lastBurstAt.getTime() < o.burstSeconds * 1000)
    return { kind: 'skip', why: 'burst' };
  return { kind: 'push', reason };
}

/** Whether do-not-disturb holds at `now`: until a time, or inside the daily window. */
export function inDnd(p: Pick<RecipientPrefs, 'dndUntil' | 'dndSchedule' | 'timeZone'>, now: Date): boolean {
  if (p.dndUntil && p.dndUntil.getTime() > now.getTime()) return true;
  return p.dndSchedule ? inSchedule(p.dndSchedule, p.timeZone, now) : false;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The weekday (0 = Sunday) and minute of the day at `now` in `timeZone` (UTC if unknown). */
export function localClock(timeZone: string, now: Date): { day: number; minute: number } {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(now);
  } catch {
    return localClock('UTC', now);
  }
  const get = (t: string) => parts.find((x) => x.type === t)?.value ?? '0';
  return { day: WEEKDAYS.indexOf(get('weekday')), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/**
 * Inside a daily window? `days` are the days a window *starts* on: a Friday 22:00–08:00 window
 * covers Saturday 07:00 but not Friday 07:00.
 */
export function inSchedule(s: DndSchedule, timeZone: string, now: Date): boolean {
  const { day, minute } = localClock(timeZone, now);
  const start = minutesOf(s.start);
  const end = minutesOf(s.end);
  const on = (d: number) => !s.days || s.days.includes(d);
  if (start === end) return false;
  if (start < end) return on(day) && minute >= start && minute < end;
  return (on(day) && minute >= start) || (on((day + 6) % 7) && minute < end);
}

/** Whether `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The key that collapses a thread burst into one notification: per thread, or per channel. */
export function collapseKeyOf(cid: string, parentId: string | null): string {
  return parentId ? `${cid}/${parentId}` : cid;
}

import type { Task } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { taskDueText } from './tasks.js';
import { relativeTime } from './time.js';

const now = Date.parse('2026-06-10T12:00:00Z');
const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

describe('relativeTime', () => {
  it('says "just now" within 45 seconds either way', () => {
    for (const s of [0, 44, -44]) expect(relativeTime(at(s), now)).toBe('just now');
  });

  it('takes the largest unit that fits, rounded, in the future and the past', () => {
    expect(relativeTime(at(45), now)).toBe(rtf.format(1, 'minute'));
    expect(relativeTime(at(-5 * 60), now)).toBe(rtf.format(-5, 'minute'));
    expect(relativeTime(at(2 * 3600 + 20 * 60), now)).toBe(rtf.format(2, 'hour'));
    expect(relativeTime(at(-86_400), now)).toBe(rtf.format(-1, 'day'));
    expect(relativeTime(at(-3 * 7 * 86_400), now)).toBe(rtf.format(-3, 'week'));
    expect(relativeTime(at(2 * 365 * 86_400), now)).toBe(rtf.format(2, 'year'));
  });
});

describe('taskDueText', () => {
  const task = (due_at: string | null, status: Task['status'] = 'open') => ({ due_at, status }) as Task;

  it('is null without a due time', () => {
    expect(taskDueText(task(null), now)).toBeNull();
  });

  it('says when it is due, and "Overdue" only for an open task past its time', () => {
    expect(taskDueText(task(at(2 * 3600)), now)).toBe(`Due ${rtf.format(2, 'hour')}`);
    expect(taskDueText(task(at(-3 * 86_400)), now)).toBe(`Overdue, ${rtf.format(-3, 'day')}`);
    expect(taskDueText(task(at(-3 * 86_400), 'done'), now)).toBe(`Due ${rtf.format(-3, 'day')}`);
  });
});

import { describe, expect, it } from 'vitest';
import { shouldAlert } from './message-alerts.js';

const base = {
  message: { user_id: 'bob', cid: 'dm:1' },
  me: 'ada',
  reason: 'dm' as const,
  openCid: 'public:general',
  onScreen: true,
  muted: false,
  level: 'mentions' as const,
  dnd: false,
};

describe('shouldAlert', () => {
  it('alerts for a DM or mention in another conversation', () => {
    expect(shouldAlert(base)).toBe(true);
    expect(shouldAlert({ ...base, reason: 'mention', message: { user_id: 'bob', cid: 'public:dev' } })).toBe(true);
  });
  it('not for the conversation on screen, but yes when the tab is hidden', () => {
    expect(shouldAlert({ ...base, openCid: 'dm:1' })).toBe(false);
    expect(shouldAlert({ ...base, openCid: 'dm:1', onScreen: false })).toBe(true);
  });
  it('not for my own messages, muted conversations, level none or do-not-disturb', () => {
    expect(shouldAlert({ ...base, message: { user_id: 'ada', cid: 'dm:1' } })).toBe(false);
    expect(shouldAlert({ ...base, muted: true })).toBe(false);
    expect(shouldAlert({ ...base, level: 'none' })).toBe(false);
    expect(shouldAlert({ ...base, dnd: true })).toBe(false);
  });
});

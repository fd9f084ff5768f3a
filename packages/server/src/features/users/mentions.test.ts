import { describe, expect, it } from 'vitest';
import { parseMentions } from './mentions.js';

describe('parseMentions', () => {
  it('finds usernames, case-insensitively and once each', () => {
    expect(parseMentions('hi @Alice and @bob, @alice again').usernames).toEqual(['alice', 'bob']);
  });
  it('ignores emails and mid-word at-signs', () => {
    expect(parseMentions('mail bob@example.com or x@y').usernames).toEqual([]);
  });
  it('recognises @here, @channel and @everyone', () => {
    expect(parseMentions('@here look')).toMatchObject({ here: true, channel: false, usernames: [] });
    expect(parseMentions('(@channel) and @everyone')).toMatchObject({ here: false, channel: true });
  });
  it('drops trailing punctuation from a name', () => {
    expect(parseMentions('thanks @carol.').usernames).toEqual(['carol']);
  });
});

import { describe, expect, it } from 'vitest';
import { matchLines, merge3 } from './merge.js';

const lines = (...l: string[]) => l.join('\n');

describe('merge3', () => {
  const base = lines('# Plan', 'one', 'two', 'three', 'four', 'five');

  it('takes the one side that changed', () => {
    const ours = lines('# Plan', 'ONE', 'two', 'three', 'four', 'five');
    expect(merge3(base, ours, base)).toEqual({ ok: true, text: ours });
    expect(merge3(base, base, ours)).toEqual({ ok: true, text: ours });
  });

  it('merges edits to lines apart', () => {
    const ours = lines('# Plan', 'ONE', 'two', 'three', 'four', 'five');
    const theirs = lines('# Plan', 'one', 'two', 'three', 'FOUR', 'five');
    expect(merge3(base, ours, theirs)).toEqual({
      ok: true,
      text: lines('# Plan', 'ONE', 'two', 'three', 'FOUR', 'five'),
    });
  });

  it('merges an insertion with a deletion elsewhere', () => {
    const ours = lines('# Plan', 'zero', 'one', 'two', 'three', 'four', 'five');
    const theirs = lines('# Plan', 'one', 'two', 'three', 'five');
    expect(merge3(base, ours, theirs)).toEqual({
      ok: true,
      text: lines('# Plan', 'zero', 'one', 'two', 'three', 'five'),
    });
  });

  it('merges lines added at the end by one and at the start by the other', () => {
    const ours = `${base}\nsix`;
    const theirs = `intro\n${base}`;
    expect(merge3(base, ours, theirs)).toEqual({ ok: true, text: `intro\n${base}\nsix` });
  });

  it('takes the same change made on both sides once', () => {
    const both = lines('# Plan', 'one', 'TWO', 'three', 'four', 'five');
    expect(merge3(base, both, both)).toEqual({ ok: true, text: both });
    const ours = lines('# Plan', 'one', 'TWO', 'three', 'four', 'FIVE');
    expect(merge3(base, ours, both)).toEqual({ ok: true, text: ours });
  });

  it('refuses different changes to the same line', () => {
    const ours = lines('# Plan', 'one', 'two!', 'three', 'four', 'five');
    const theirs = lines('# Plan', 'one', 'two?', 'three', 'four', 'five');
    expect(merge3(base, ours, theirs)).toEqual({ ok: false });
  });

  it('refuses changes to adjacent lines, as diff3 does', () => {
    const ours = lines('# Plan', 'one', 'TWO', 'three', 'four', 'five');
    const theirs = lines('# Plan', 'one', 'two', 'THREE', 'four', 'five');
    expect(merge3(base, ours, theirs)).toEqual({ ok: false });
  });

  it('refuses two different insertions at the same place', () => {
    expect(merge3('a\nb', 'a\nx\nb', 'a\ny\nb')).toEqual({ ok: false });
  });

  it('handles empty texts', () => {
    expect(merge3('', 'hello', '')).toEqual({ ok: true, text: 'hello' });
    expect(merge3('', 'hello', 'world')).toEqual({ ok: false });
    expect(merge3('a\nb\nc', '', 'a\nb\nc')).toEqual({ ok: true, text: '' });
  });
});

describe('matchLines', () => {
  it('finds a longest common subsequence, increasing in both', () => {
    const pairs = matchLines(['a', 'b', 'c', 'd'], ['b', 'x', 'c', 'd', 'e']);
    expect(pairs).toEqual([
      [1, 0],
      [2, 2],
      [3, 3],
    ]);
  });
});

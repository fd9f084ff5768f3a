import { describe, expect, it } from 'vitest';
import { renderSnippet, shieldTags } from './highlight.js';
import { isEmptyQuery, parseQuery, searchTerm } from './query.js';

describe('parseQuery', () => {
  it('keeps free text in websearch syntax and lifts operators out', () => {
    const p = parseQuery('deploy "release notes" -draft from:@ann in:#general to:bob has:link is:pinned mentions:@me');
    expect(p.text).toBe('deploy "release notes" -draft');
    expect(p.from).toEqual(['ann']);
    expect(p.in).toEqual(['general']);
    expect(p.to).toEqual(['bob']);
    expect(p.mentions).toEqual(['me']);
    expect([...p.has]).toEqual(['link']);
    expect([...p.is]).toEqual(['pinned']);
  });

  it('treats unknown key:value runs (URLs, times) as words, an identifier as the phrase of its parts', () => {
    expect(parseQuery('https://example.com/a 12:30 note:').text).toBe('"https example com a" "12 30" note:');
    expect(parseQuery('foo_bar ann.lee -x.y get_user').text).toBe('"foo bar" "ann lee" -"x y" "get user"');
  });

  it('reads < and > as blanks, as the indexed text does', () => {
    expect(searchTerm('<b>deploy</b>')).toBe('b deploy /b');
    expect(searchTerm('deploy')).toBe('deploy');
    expect(searchTerm('ann.lee@example.com')).toBe('ann lee example com');
    expect(searchTerm('it’s')).toBe('it’s');
    expect(parseQuery('<> deploy').text).toBe('deploy');
  });

  it('quoted operator values and an unclosed quote', () => {
    expect(parseQuery('in:"team chat" x').in).toEqual(['team chat']);
    expect(parseQuery('"open phrase').text).toBe('"open phrase"');
  });

  it('days: before and after exclude the day, on covers it, in UTC; the narrowest wins', () => {
    const p = parseQuery('x after:2026-03-01 before:2026-03-10 before:2026-03-05');
    expect(p.since?.toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(p.until?.toISOString()).toBe('2026-03-05T00:00:00.000Z');
    const on = parseQuery('on:2024-02-29');
    expect([on.since?.toISOString(), on.until?.toISOString()]).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
    expect(() => parseQuery('on:2023-02-29')).toThrow(/YYYY-MM-DD/);
  });

  it('scripts without spaces become substring terms', () => {
    const p = parseQuery('日本 -中国 deploy');
    expect(p.substrings).toEqual(['日本']);
    expect(p.notSubstrings).toEqual(['中国']);
    expect(p.text).toBe('deploy');
  });

  it('refuses bad operator values and a search for nothing', () => {
    expect(() => parseQuery('has:cake')).toThrow(/has:/);
    expect(() => parseQuery('is:""')).toThrow(/needs a value/);
    expect(() => parseQuery('-in:#x')).toThrow(/negated/);
    expect(() => parseQuery(Array(40).fill('w').join(' '))).toThrow(/at most/);
    for (const q of ['', '  ', '-x', '"" OR', '- -']) expect(isEmptyQuery(parseQuery(q)), q).toBe(true);
    for (const q of ['x', 'from:@a', 'on:2026-01-01', '日本']) expect(isEmptyQuery(parseQuery(q)), q).toBe(false);
  });
});

describe('renderSnippet', () => {
  it('escapes everything but the marks', () => {
    const raw = shieldTags('<img src=x onerror=alert(1)> "q" & \'a\' deploy');
    const headline = raw.replace('deploy', '\u0002deploy\u0003');
    expect(renderSnippet('', headline, [])).toBe(
      '&lt;img src=x onerror=alert(1)&gt; &quot;q&quot; &amp; &#39;a&#39; <mark>deploy</mark>',
    );
  });

  it('marks substring terms case-insensitively and cuts long texts around the first', () => {
    const long = `${'a '.repeat(300)}ÄrgeR end`;
    const s = renderSnippet(long, null, ['ärger']);
    expect(s).toContain('<mark>ÄrgeR</mark>');
    expect(s.startsWith('… ')).toBe(true);
    expect(s.length).toBeLessThan(320);
    expect(renderSnippet('a.b*c', null, ['.b*'])).toBe('a<mark>.b*</mark>c');
  });
});

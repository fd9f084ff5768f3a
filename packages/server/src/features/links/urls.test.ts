import { describe, expect, it } from 'vitest';
import { cleanText, readHead } from './unfurl.js';
import { normalizeUrl, previewUrls } from './urls.js';

describe('preview URLs of a message', () => {
  it('takes the first three distinct http(s) URLs, in order, without trailing punctuation', () => {
    expect(
      previewUrls(
        'see https://a.example/x. and (https://b.example/wiki/Foo_(bar)), <https://c.example/?q=1>, https://A.example/x#top http://d.example',
      ),
    ).toEqual(['https://a.example/x', 'https://b.example/wiki/Foo_(bar)', 'https://c.example/?q=1']);
  });

  it('skips code, other schemes, credentials and over-long URLs', () => {
    const long = `https://e.example/${'a'.repeat(2100)}`;
    expect(
      previewUrls(
        '`https://code.example` ```\nhttps://block.example\n``` ftp://x.example javascript:alert(1) https://u:p@f.example/ ' +
          `${long} https://ok.example/a`,
      ),
    ).toEqual(['https://ok.example/a']);
    expect(previewUrls('no links here')).toEqual([]);
  });

  it('normalizes for the cache: host case, default port, no fragment', () => {
    expect(normalizeUrl('HTTPS://Example.COM:443/a b#frag')).toBe('https://example.com/a%20b');
    expect(normalizeUrl('not a url')).toBeNull();
    expect(normalizeUrl('file:///etc/passwd')).toBeNull();
  });
});

describe('reading a page head', () => {
  it('reads Open Graph, Twitter, oEmbed discovery and the title with entities decoded', () => {
    const head = readHead(`<!doctype html><html><head>
      <TITLE>Plain &amp; simple</TITLE>
      <meta property="og:title" content="OG &quot;title&quot;">
      <meta property="og:title" content="second one is ignored">
      <meta name="twitter:description" content="tw desc">
      <link rel="alternate" type="application/json+oembed" href="/oembed?u=1&amp;f=json">
      </head><body><title>not this</title></body></html>`);
    expect(head.title).toBe('Plain & simple');
    expect(head.meta.get('og:title')).toBe('OG "title"');
    expect(head.meta.get('twitter:description')).toBe('tw desc');
    expect(head.oembed).toBe('/oembed?u=1&f=json');
  });

  it('cleans text for a card: controls, bidi overrides, lone surrogates, length', () => {
    expect(cleanText('  a\u0000b\u202e c\n\n d\uD800 ', 100)).toBe('ab c d');
    expect(cleanText('x'.repeat(20), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(cleanText('   ', 10)).toBeNull();
  });
});

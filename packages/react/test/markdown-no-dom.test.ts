/**
 * Without a DOM (server rendering; this file runs in plain Node) DOMPurify is skipped, so this
 * checks the first layer alone: markdown-it with raw HTML off and the link allow-list. It
 * matters beyond SSR too: DOMPurify is not reliable under happy-dom (cure53/DOMPurify#1457),
 * so the DOM tests cannot prove the second layer, and the first must hold by itself.
 */
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/index.js';

describe('renderMarkdown without a DOM (markdown-it alone)', () => {
  it('escapes raw HTML and refuses unsafe links', () => {
    expect(typeof window).toBe('undefined');
    const cases = [
      '<script>alert(1)</script>',
      '[x](javascript:alert(1))',
      '<img src=x onerror=alert(1)>',
      '<a href="javascript:alert(1)">x</a>',
      '<iframe src="https://evil.example"></iframe>',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '<javascript:alert(1)>',
      '![x](https://tracker.example/p.gif)',
      '<svg onload=alert(1)>',
    ];
    for (const text of cases) {
      const html = renderMarkdown(text);
      expect(html, text).not.toMatch(/<(script|img|iframe|svg)\b/i);
      expect(html, text).not.toMatch(/<[^>]+\son\w+=/i);
      expect(html, text).not.toMatch(/href="(?!https?:|mailto:)/i);
    }
    expect(renderMarkdown('<script>alert(1)</script>')).toContain('&lt;script&gt;');
  });

  it('still renders links and mentions', () => {
    const html = renderMarkdown('hi @bob see https://example.com');
    expect(html).toContain('<span class="parley-mention" data-mention="bob">@bob</span>');
    expect(html).toContain(
      '<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">https://example.com</a>',
    );
  });
});

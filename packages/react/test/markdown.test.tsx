// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCommands, Markdown, renderMarkdown } from '../src/index.js';

afterEach(() => {
  cleanup();
});

function show(text: string, me?: string) {
  const { container } = render(<Markdown text={text} me={me ?? null} />);
  return container.querySelector('.parley-markdown') as HTMLElement;
}

describe('Markdown', () => {
  it('renders a script tag as inert text', () => {
    const el = show('<script>alert(1)</script>');
    expect(el.querySelector('script')).toBeNull();
    expect(el.textContent).toContain('<script>alert(1)</script>');
  });

  it('does not make a javascript: link', () => {
    const el = show('[x](javascript:alert(1))');
    expect(el.querySelector('a')).toBeNull();
    expect(el.innerHTML).not.toMatch(/href="javascript:/i);
    expect(el.textContent).toContain('[x](javascript:alert(1))');
    // nor through autolinks, reference links or entity tricks
    for (const t of [
      '<javascript:alert(1)>',
      '[x][r]\n\n[r]: javascript:alert(1)',
      '[x](&#106;avascript:alert(1))',
      '[x](JaVaScRiPt:alert(1))',
      '[x](data:text/html,<script>alert(1)</script>)',
      '[x](vbscript:msgbox(1))',
    ]) {
      const html = renderMarkdown(t);
      expect(html, t).not.toMatch(/href="(?!https?:|mailto:)/i);
    }
  });

  it('renders an img with onerror as text: no element, no handler', () => {
    const el = show('<img src=x onerror=alert(1)>');
    expect(el.querySelector('img')).toBeNull();
    expect(el.querySelector('[onerror]')).toBeNull();
    expect(el.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  it('does not load Markdown images either', () => {
    const el = show('![pixel](https://tracker.example/p.gif)');
    expect(el.querySelector('img')).toBeNull();
  });

  it('links http, https and mailto, in a new tab without opener or referrer', () => {
    const el = show('see https://example.com/a?b=1 and [docs](http://docs.example) or mail <bob@example.com>');
    const links = [...el.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.com/a?b=1',
      'http://docs.example',
      'mailto:bob@example.com',
    ]);
    for (const a of links) {
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    }
  });

  it('highlights @mentions, the viewer’s own differently, but not inside code or links', () => {
    const el = show('hi @bob and @alice. `@carol` mail bob@example.com', 'alice');
    const mentions = [...el.querySelectorAll('.parley-mention')];
    expect(mentions.map((m) => m.textContent)).toEqual(['@bob', '@alice']);
    expect(mentions[1]?.classList.contains('parley-mention--me')).toBe(true);
    expect(mentions[0]?.classList.contains('parley-mention--me')).toBe(false);
    expect(el.querySelector('code')?.textContent).toBe('@carol');
  });

  it('keeps basic formatting', () => {
    const el = show('**bold** _it_ `code`\nnext line');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect(el.querySelector('em')?.textContent).toBe('it');
    expect(el.querySelector('br')).not.toBeNull();
  });

  it('shows /shrug as typed', () => {
    const text = defaultCommands.find((c) => c.name === 'shrug')?.run('ok') ?? '';
    const el = show(text);
    expect(el.textContent?.trim()).toBe('ok ¯\\_(ツ)_/¯');
  });
});

// Every relative link in README.md and docs/ resolves to a file, and every `#anchor` into a
// Markdown file to one of its headings: moving or splitting a page cannot leave links behind.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, brokenLinks, repo, slugOf } from './docs-links.mjs';

mkdirSync(path.join(repo, 'node_modules/.cache'), { recursive: true });

describe('docs links', () => {
  it('all resolve', () => {
    expect(brokenLinks()).toEqual([]);
  });

  it('finds a missing file, a missing heading and an empty anchor', () => {
    const dir = mkdtempSync(path.join(repo, 'node_modules/.cache/docs-links-'));
    try {
      writeFileSync(path.join(dir, 'a.md'), '# A\n\n## Here\n\n[ok](#here) [no](#there) [gone](b.md) [empty](#)\n');
      const rel = path.relative(repo, path.join(dir, 'a.md'));
      expect(brokenLinks([rel])).toEqual([
        `${rel}: #there (no such heading)`,
        `${rel}: b.md (no such file)`,
        `${rel}: # (an empty anchor)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('slugs headings as GitHub does', () => {
    expect(slugOf('Fallback transport (SSE + POST)')).toBe('fallback-transport-sse--post');
    expect(slugOf('One @name, one thing')).toBe('one-name-one-thing');
    expect(slugOf('`message.send`')).toBe('messagesend');
    expect([...anchorsOf('## Spaces\n\n```\n## not a heading\n```\n### Spaces\n')]).toEqual(['spaces', 'spaces-1']);
  });
});

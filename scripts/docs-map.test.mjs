// The newcomer's way in stays short and true: the README keeps its two commands first and links
// to the guides, docs/architecture.md stays a 15-minute read, and the order of features it draws
// is the one scripts/check-imports.mjs enforces.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURE_ORDER } from './check-imports.mjs';

const repo = path.resolve(import.meta.dirname, '..');
const read = (file) => readFileSync(path.join(repo, file), 'utf8');

describe('README.md', () => {
  const readme = read('README.md');

  it('starts with the command that runs Parley and `npm test`', () => {
    const first = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = first.split('\n').map((l) => l.replace(/#.*$/, '').trim());
    expect(commands).toContain('npx parley start');
    expect(commands).toContain('npm test');
  });

  it('is short (about 12 KB at most) and links the settings reference and the deploy guide', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
    expect(readme).toContain('(docs/settings.md)');
    expect(readme).toMatch(/## Deploying[\s\S]*\(docs\/deploy\.md\)/);
  });
});

describe('docs/architecture.md', () => {
  const doc = read('docs/architecture.md');

  it('is a 15-minute read (at most about 4 000 words)', () => {
    expect(doc.split(/\s+/).length).toBeLessThan(4000);
  });

  it('draws the order of features that check-imports enforces', () => {
    const section = doc.slice(doc.indexOf('### Feature entry points and the order of features'));
    const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const lines = [...block.matchAll(/^\s*(\d+)\s+(.+)$/gm)].map((m) => ({
      rank: Number(m[1]),
      features: (m[2] ?? '').split('·').map((f) => f.trim()),
    }));
    expect(lines.map((l) => l.rank)).toEqual(FEATURE_ORDER.map((_, i) => i).reverse());
    expect(lines.map((l) => l.features).reverse()).toEqual(FEATURE_ORDER);
  });
});

describe('docs/protocol.md and its pages', () => {
  const overview = read('docs/protocol.md');
  const pages = readdirSync(path.join(repo, 'docs/protocol')).filter((f) => f.endsWith('.md'));

  it('is a short entry page that links every guide and the generated reference', () => {
    expect(Buffer.byteLength(overview)).toBeLessThan(10 * 1024);
    for (const page of pages) expect(overview).toContain(`(protocol/${page})`);
    for (const ref of ['reference/rest.md', 'reference/socket.md', 'reference/errors.md'])
      expect(overview).toContain(`(${ref})`);
  });

  it('keeps each guide short (under 32 KB)', () => {
    const big = pages.filter((p) => Buffer.byteLength(read(`docs/protocol/${p}`)) >= 32 * 1024);
    expect(big).toEqual([]);
  });

  it('puts the outbound allow-list on the first screen of the webhooks guide', () => {
    const first = read('docs/protocol/webhooks.md').slice(0, 2500);
    expect(first).toContain('PARLEY_OUTBOUND_ALLOW_WEBHOOKS');
    expect(first).toContain('OUTBOUND_NOT_ALLOWED');
  });
});

describe('docs/benchmarks.md', () => {
  const doc = read('docs/benchmarks.md');

  it('holds the current results, not a diary (under 30 KB)', () => {
    expect(Buffer.byteLength(doc)).toBeLessThan(30 * 1024);
  });

  it('keeps the sections other docs and the code cite', () => {
    for (const heading of ['## Migrations', '## First start', '## PostgreSQL cost per send'])
      expect(doc).toContain(`\n${heading}\n`);
    expect(doc).toContain('**Kept rows do not wait for a read.**');
  });
});

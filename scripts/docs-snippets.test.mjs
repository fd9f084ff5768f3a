// The rules of the docs' snippet runner (scripts/docs-snippets.mjs), and the docs keeping them:
// every block either runs (packages/cli/test/docs-snippets.test.ts runs it, slow tier) or says
// why not.
import { describe, expect, it } from 'vitest';
import { docSnippets, extractSnippets, fillPlaceholders, moduleSource, runnable } from './docs-snippets.mjs';

describe('extractSnippets', () => {
  const text = [
    '# T',
    '```sh',
    'echo one',
    '```',
    '<!-- snippet: no-run — a deploy step -->',
    '```sh',
    'sudo reboot',
    '```',
    '<!-- quickstart:begin -->',
    '<!-- snippet: with client -->',
    '```ts',
    'await client.queryChannels({});',
    '```',
    '<!-- snippet: no-run -->',
    '```js',
    'x',
    '```',
    '```tsx',
    '<App />',
    '```',
    '```json',
    '{}',
    '```',
  ].join('\n');
  const s = extractSnippets(text, 'x.md');

  it('finds each block with its language, line and marker', () => {
    expect(s.map((b) => [b.line, b.lang, b.mode, b.setup])).toEqual([
      [2, 'sh', 'run', null],
      [6, 'sh', 'no-run', null],
      [11, 'ts', 'run', 'client'],
      [15, 'js', 'no-run', null],
      [18, 'tsx', 'run', null],
      [21, 'json', 'run', null],
    ]);
    expect(s[1]?.reason).toBe('a deploy step');
    expect(s[0]?.code).toBe('echo one');
  });

  it('asks a reason of no-run and a marker of what cannot run here', () => {
    expect(s[3]?.problems).toEqual(['`no-run` needs a reason']);
    expect(s[4]?.problems).toEqual(['a `tsx` block cannot run here: mark it no-run']);
    expect(extractSnippets('<!-- snippet: sometimes -->\n```sh\nx\n```')[0]?.problems).toEqual([
      'unknown marker "sometimes"',
    ]);
  });

  it('runs shell, JavaScript and TypeScript only', () => {
    expect(runnable(s).map((b) => b.line)).toEqual([2, 11]);
  });

  it('runs a `commonjs` js block as CommonJS, and only a js block without a setup', () => {
    const [cjs, ts, both] = extractSnippets(
      [
        '<!-- snippet: commonjs -->',
        '```js',
        "require('x')",
        '```',
        '<!-- snippet: commonjs -->',
        '```ts',
        'x',
        '```',
        '<!-- snippet: commonjs -->',
        '<!-- snippet: with parley -->',
        '```js',
        'x',
        '```',
      ].join('\n'),
    );
    expect([cjs?.kind, cjs?.mode, cjs?.problems]).toEqual(['cjs', 'run', []]);
    expect(ts?.problems).toEqual(['`commonjs` is for a ```js block']);
    expect(both?.problems).toEqual(['a `commonjs` block makes its own SDK: no `with` setup']);
  });
});

describe('placeholders', () => {
  const values = { appId: 'A1', apiKey: 'K1', apiSecret: 'S1', token: 'T1', host: '127.0.0.1:4321' };

  it('fills the documented ones and points the default address at the live server', () => {
    expect(fillPlaceholders('export APP=<id> KEY=<api_key> T=<token> X=<other>', values)).toBe(
      'export APP=A1 KEY=K1 T=T1 X=<other>',
    );
    expect(fillPlaceholders('curl http://127.0.0.1:3000/v1 http://localhost:3000/x :30001', values)).toBe(
      'curl http://127.0.0.1:4321/v1 http://127.0.0.1:4321/x :30001',
    );
  });

  it('gives a fragment its setup and an exit', () => {
    const src = moduleSource({ code: 'await client.search("x");', setup: 'client' }, values);
    expect(src).toMatch(/^import \{ ChatClient \} from '@parley\/client';/);
    expect(src).toContain('await client.search("x");');
    expect(src.trimEnd().endsWith('process.exit(0);')).toBe(true);
  });
});

describe('the docs', () => {
  const all = docSnippets();

  it('mark every block that is not meant to run, with a reason', () => {
    const problems = all.filter((b) => b.problems.length).map((b) => `${b.file}:${b.line}: ${b.problems.join('; ')}`);
    expect(problems).toEqual([]);
  });

  it('have runnable blocks for the runner (getting started, the SDK, the webhooks guide)', () => {
    const files = new Set(runnable(all).map((b) => b.file));
    for (const f of ['docs/getting-started.md', 'docs/sdk.md', 'docs/protocol/webhooks.md']) expect(files).toContain(f);
  });
});

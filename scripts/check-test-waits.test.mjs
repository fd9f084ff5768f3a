// scripts/check-test-waits.mjs on planted test files: each class of flake it catches is named
// with its file and line, and what each rule lets through (with its reason) passes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problemsIn } from './check-test-waits.mjs';

const lines = (...l) => l.join('\n');

describe('check-test-waits', () => {
  it('fails a fixed port, and lets port 0 and the machine’s services through', () => {
    const text = lines(
      "server.listen(4000, '127.0.0.1');",
      'server.listen({ host: h, port: 4001 });',
      'server.listen(0);',
      "const pg = 'postgres://127.0.0.1:5432/test'; server.listen(5432);",
    );
    const p = problemsIn('a.test.ts', text);
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(/^a\.test\.ts:1: a fixed port \(4000\)/);
    expect(p[1]).toMatch(/^a\.test\.ts:2: a fixed port \(4001\)/);
  });

  it('fails a sleep with no reason, and lets a polling loop and a sleep that says why through', () => {
    const text = lines(
      'await sleep(300);',
      'while (!done()) await sleep(20);',
      '// nothing may arrive in this window: had it been sent, it would be here by now',
      'await sleep(500);',
      'await page.waitForTimeout(100); // the token expires after 100 ms',
    );
    const p = problemsIn('b.test.ts', text);
    expect(p).toEqual([expect.stringMatching(/^b\.test\.ts:1: a sleep with no reason/)]);
  });

  it('fails a second page of one context opened as a tab, within one test', () => {
    const text = lines(
      "it('two tabs', async () => {",
      '  const a = await context.newPage();',
      '  const b = await context.newPage();',
      '  const c = await a.context().newPage();',
      '});',
      "it('one page per context, per test', async () => {",
      '  const a = await context.newPage();',
      '  const b = await openWindow(context);',
      '  const other = await context.newPage(); // a tab on purpose: the test is about the page behind it',
      '  const x = await browser.newPage();',
      '  const y = await browser.newPage();',
      '});',
    );
    const p = problemsIn('c.test.ts', text);
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(/^c\.test\.ts:3: a second page of one context is a background tab/);
    expect(p[1]).toMatch(/^c\.test\.ts:4: a second page of one context is a background tab/);
  });

  it('passes the web app’s browser tests as they are', () => {
    const dir = path.resolve(import.meta.dirname, '../apps/web/test');
    for (const f of ['sections.e2e.test.ts', 'notifications.test.ts', 'seen.e2e.test.ts'])
      expect(problemsIn(f, readFileSync(path.join(dir, f), 'utf8'))).toEqual([]);
  });
});

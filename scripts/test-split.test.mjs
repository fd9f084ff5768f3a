// scripts/test-split.mjs: which backend a split file runs on, which run on both, and the text
// that makes a file need both (check-test-tiers.mjs fails on one that is not in the list).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOTH_BACKENDS, checksOneBackend, splitBackend } from './test-split.mjs';

const root = path.resolve(import.meta.dirname, '..');

describe('test-split', () => {
  it('spreads files over both backends, the same way for the same salt', () => {
    const files = Array.from({ length: 200 }, (_, i) => `packages/server/test/f${i}.pg.test.ts`);
    const on = files.map((f) => splitBackend('abc', f));
    expect(on.filter((b) => b === 'postgres').length).toBeGreaterThan(60);
    expect(on.filter((b) => b === 'pglite').length).toBeGreaterThan(60);
    expect(files.map((f) => splitBackend('abc', f))).toEqual(on);
    expect(files.map((f) => splitBackend('abd', f))).not.toEqual(on);
  });

  it('names only files that exist, once each', () => {
    for (const f of BOTH_BACKENDS) expect(existsSync(path.join(root, f)), f).toBe(true);
    expect(new Set(BOTH_BACKENDS).size).toBe(BOTH_BACKENDS.length);
  });

  it('tells a skip or a check on one backend from an expectation for each', () => {
    for (const text of [
      "describe.skipIf(backend !== 'postgres')('jobs on two nodes', () => {",
      "  it.skipIf(backend !== 'postgres')(",
      '  it.skipIf(!process.env.DATABASE_URL)(',
      "    if (backend === 'postgres') expect(order.indexOf('send')).toBeLessThan(12);",
      "    if (h.database.kind === 'pglite') {",
    ])
      expect(checksOneBackend(text), text).toBe(true);
    for (const text of [
      "expect(after.count - before.count).toBe(h.database.kind === 'pglite' ? 1 : 2);",
      'describe(`jobs on a background thread (${backend})`, () => {',
      "it.skipIf(!haveNginx)('serves', () => {",
    ])
      expect(checksOneBackend(text), text).toBe(false);
  });
});

/**
 * docs/reference/rest.md and docs/reference/rest/*.md are generated from the OpenAPI document
 * the server serves (scripts/gen-reference-docs.mjs): a route added, removed or re-described
 * without `npm run docs:reference` fails here. (The socket and error pages are checked in the
 * unit tier, scripts/docs-reference.test.mjs: they need no server.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRestReference } from '../../../../scripts/docs-reference.mjs';
import { type Harness, startHarness } from '../harness.js';

const reference = path.resolve(import.meta.dirname, '../../../../docs/reference');
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('docs/reference (REST)', () => {
  it('is what `npm run docs:reference` makes from GET /v1/openapi.json', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(r.statusCode).toBe(200);
    const pages = renderRestReference(JSON.parse(r.body));
    const stale = Object.entries(pages)
      .filter(([name, text]) => {
        try {
          return readFileSync(path.join(reference, name), 'utf8') !== text;
        } catch {
          return true;
        }
      })
      .map(([name]) => name);
    expect(stale, 'out of date: run `npm run docs:reference`').toEqual([]);
    const extra = readdirSync(path.join(reference, 'rest'))
      .map((f) => `rest/${f}`)
      .filter((name) => !(name in pages));
    expect(extra, 'no longer generated: run `npm run docs:reference`').toEqual([]);
  });
});

// docs/reference/ is generated from the contract (scripts/gen-reference-docs.mjs): the socket
// and error pages must be what the renderers make of the protocol package now, and the
// renderers must say what the schemas say. (The REST pages need a built server: they are
// checked in packages/server/test/foundation/reference-docs.test.ts.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../packages/protocol/src/index.ts';
import { renderErrorsReference, renderRestReference, renderSocketReference, typeOf } from './docs-reference.mjs';

const reference = path.resolve(import.meta.dirname, '../docs/reference');
const current = (name) => readFileSync(path.join(reference, name), 'utf8');

describe('docs/reference, generated pages', () => {
  it('socket.md is current (run `npm run docs:reference`)', () => {
    expect(current('socket.md') === renderSocketReference()).toBe(true);
  });

  it('errors.md is current (run `npm run docs:reference`)', () => {
    expect(current('errors.md') === renderErrorsReference()).toBe(true);
  });

  it('errors.md has a row for every code with its status and retry', () => {
    const text = renderErrorsReference();
    for (const [code, e] of Object.entries(ERRORS))
      expect(text).toContain(
        `| [\`${code}\`](../errors.md#${code.toLowerCase()}) | ${e.status} | ${e.retryable ? 'yes' : 'no'} |`,
      );
  });

  it('socket.md lists every client frame with its fields and every close code', () => {
    const text = renderSocketReference();
    expect(text).toMatch(/### message\.send\n\n\| field[^\n]*\n\|---[^\n]*\n\| `cid` \| string \| yes \|/);
    expect(text).toContain('| 4501 | `UNKNOWN_APP` | no |');
    expect(text).toContain('| `message` | [Message](#message) | yes |');
    expect(text).toContain('\n### Message\n');
  });
});

describe('renderRestReference', () => {
  const doc = {
    info: { title: 'T', version: '1' },
    paths: {
      '/v1/things/{id}': {
        patch: {
          tags: ['things'],
          summary: 'Change a thing',
          parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' }, description: 'its id' }],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['name'],
                  properties: {
                    name: { type: 'string', maxLength: 80, description: 'shown | to all' },
                    tags: { type: 'array', items: { type: 'string' }, maxItems: 5 },
                    mode: { anyOf: [{ const: 'a' }, { const: 'b' }, { type: 'null' }] },
                  },
                },
              },
            },
          },
          responses: { 200: { content: { 'application/json': { schema: { properties: { thing: {} } } } } }, 404: {} },
        },
      },
      '/healthz': { get: { tags: ['ops'], summary: 'Up', security: [], responses: { 200: {} } } },
    },
  };
  const pages = renderRestReference(doc);

  it('makes an index and a page per tag, the index linking each operation', () => {
    expect(Object.keys(pages).sort()).toEqual(['rest.md', 'rest/ops.md', 'rest/things.md']);
    expect(pages['rest.md']).toContain(
      '| PATCH | [`/v1/things/{id}`](rest/things.md#patch-v1thingsid) | Change a thing |',
    );
    expect(pages['rest.md']).toContain('2 operations');
  });

  it('gives each operation its auth, parameters, body fields and answers', () => {
    const page = pages['rest/things.md'];
    expect(page).toContain('## PATCH /v1/things/{id}');
    expect(page).toContain('Auth: `X-Api-Key` and a bearer token.');
    expect(page).toContain('| `id` | path | string | yes | its id |');
    expect(page).toContain('| `name` | string | yes | shown \\| to all; 0–80 chars |');
    expect(page).toContain('| `tags` | string[] |  | at most 5 |');
    expect(page).toContain('| `mode` | "a" \\| "b" \\| null |  |  |');
    expect(page).toContain('Answers: 200 `{thing}` · 404.');
    expect(pages['rest/ops.md']).toContain('Auth: no credentials.');
  });

  it('types schemas readably', () => {
    expect(typeOf({ $ref: '#/$defs/Message' })).toBe('Message');
    expect(typeOf({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } })).toBe(
      '(string | null)[]',
    );
    expect(typeOf({ type: 'string', format: 'date-time' })).toBe('string (date-time)');
  });
});

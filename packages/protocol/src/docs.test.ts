/**
 * The docs follow the contract: every error code has its own section in docs/errors.md (and
 * nothing else does), and the protocol guides (docs/protocol/*.md) explain every request frame
 * and every event. Adding a code, a frame or an event without documenting it fails here. (The
 * generated reference, docs/reference/, lists them all anyway; this asks for the prose.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './errors.js';
import { EVENT_TYPES } from './events.js';
import { CLIENT_REQUESTS } from './frames.js';

const doc = (name: string) => readFileSync(fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url)), 'utf8');

describe('docs/errors.md', () => {
  const headings = [...doc('errors.md').matchAll(/^## (\S+)\s*$/gm)].map((m) => m[1] as string);

  it('has a `## CODE` section for every error code', () => {
    const missing = ERROR_CODES.filter((code) => !headings.includes(code));
    expect(missing).toEqual([]);
  });

  it('has no section for a code the catalogue does not define, and none twice', () => {
    const known = new Set<string>(ERROR_CODES);
    expect(headings.filter((h) => !known.has(h))).toEqual([]);
    expect(headings.length).toBe(new Set(headings).size);
  });
});

describe('docs/protocol/', () => {
  const guides = fileURLToPath(new URL('../../../docs/protocol/', import.meta.url));
  const text = readdirSync(guides)
    .filter((f) => f.endsWith('.md'))
    .map((f) => doc(`protocol/${f}`))
    .join('\n');
  // A name counts only as a whole token (in backticks), so `message.new` is not found inside
  // `message.new_thing` and `ping` is not found inside `typing`.
  const mentions = (name: string) => text.includes(`\`${name}\``);

  it('names every request frame a client may send', () => {
    expect(Object.keys(CLIENT_REQUESTS).filter((t) => !mentions(t))).toEqual([]);
  });

  it('names every event the server sends', () => {
    expect(EVENT_TYPES.filter((t) => !mentions(t))).toEqual([]);
  });
});

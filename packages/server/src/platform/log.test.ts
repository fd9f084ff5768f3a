/** What the log's error serializer and URL cleaner keep and drop (pure; no database). */
import { describe, expect, it } from 'vitest';
import { logUrl, serializeError } from './log.js';

describe('serializeError', () => {
  it('drops drizzle-style parameters from the message, the stack and the fields', () => {
    const cause = Object.assign(new Error('new row for relation "accounts" violates check constraint "t"'), {
      code: '23514',
      table: 'accounts',
      constraint: 't',
      detail: 'Failing row contains (1, a@b.c, $argon2id$v=19$m=19456,t=2,p=1$abc$def).',
      params: ['a@b.c', '$argon2id$v=19$m=19456,t=2,p=1$abc$def'],
    });
    const err = Object.assign(
      new Error('Failed query: insert into "accounts" values ($1, $2)\nparams: a@b.c,$argon2id$v=19$xyz'),
      { query: 'insert into "accounts" values ($1, $2)', params: ['a@b.c', '$argon2id$v=19$xyz'], cause },
    );
    const out = serializeError(err) as Record<string, unknown>;
    const text = JSON.stringify(out);
    expect(text).not.toContain('argon2');
    expect(text).not.toContain('a@b.c');
    expect(text).not.toContain('Failing row');
    expect(out.message).toBe('Failed query: insert into "accounts" values ($1, $2)');
    expect(out.query).toBe('insert into "accounts" values ($1, $2)');
    expect(String(out.stack)).toMatch(/^Error: Failed query: insert into "accounts" values \(\$1, \$2\)\n\s+at /);
    expect(out.cause).toMatchObject({ code: '23514', table: 'accounts', constraint: 't' });
  });

  it('blanks secret-shaped strings that reach a message some other way', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXN0cmluZw';
    const out = serializeError(new Error(`bad token ${jwt} for sk_${'x'.repeat(40)}`)) as { message: string };
    expect(out.message).toBe('bad token [redacted] for [redacted]');
  });
});

describe('logUrl', () => {
  it('blanks invite tokens in paths and token-like query parameters', () => {
    expect(logUrl('/v1/invites/abc_DEF-123/accept')).toBe('/v1/invites/[redacted]/accept');
    expect(logUrl('/invite/abc_DEF-123?x=1')).toBe('/invite/[redacted]?x=1');
    expect(logUrl('/v1/ws?api_key=pk_1&token=abc&x=2')).toBe('/v1/ws?api_key=pk_1&token=[redacted]&x=2');
    expect(logUrl('/v1/channels/public:a/messages?limit=5')).toBe('/v1/channels/public:a/messages?limit=5');
  });
});

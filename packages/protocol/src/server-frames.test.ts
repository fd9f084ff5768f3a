import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from './events.js';
import { checkServerFrame } from './server-frame-check.js';
import { ProtocolError, parseServerFrame } from './server-frames.js';

/** Parse, then check the whole frame (what `{ full }` parsing means in tests). */
const parseFull = (d: unknown) => {
  const f = parseServerFrame(d);
  return f instanceof ProtocolError ? f : checkServerFrame(f);
};

const at = '2026-11-22T10:00:00.000Z';
const user = { id: 'alice', name: 'Alice', username: null, image: null, role: 'user', created_at: at, updated_at: at };
const message = {
  id: '0193a5c4-7a1e-7c3b-8a2d-1f2e3d4c5b6a',
  cid: 'public:general',
  seq: 7,
  user_id: 'alice',
  type: 'regular',
  text: 'hi',
  parent_id: null,
  show_in_channel: false,
  reply_count: 0,
  last_reply_at: null,
  thread_participants: [],
  quoted_message_id: null,
  reactions: {},
  own_reactions: [],
  latest_reactions: [],
  mentioned_users: [],
  mentioned_here: false,
  mentioned_channel: false,
  pinned: false,
  pinned_at: null,
  pinned_by: null,
  edited_at: null,
  created_at: at,
  updated_at: at,
  deleted_at: null,
};

describe('parseServerFrame', () => {
  it('parses a message.new and narrows by type', () => {
    const f = parseFull(
      JSON.stringify({ type: 'message.new', cid: 'public:general', seq: 7, created_at: at, message }),
    );
    if (f instanceof ProtocolError) throw f;
    expect(f.type).toBe('message.new');
    if (f.type === 'message.new') expect(f.message.text).toBe('hi');
  });

  it('parses hello and replies, ok and not', () => {
    const hello = { type: 'hello', user, connection_id: 'c1', protocol_version: 1, channels: { 'public:general': 7 } };
    expect(parseFull(JSON.stringify(hello))).toEqual(hello);
    const ok = { type: 'reply', req_id: 3, ok: true, message };
    expect(parseFull(ok)).toEqual(ok);
    const bad = { type: 'reply', req_id: null, ok: false, error: { code: 'BAD_JSON', message: 'no' } };
    expect(parseFull(bad)).toEqual(bad);
  });

  it('returns a ProtocolError for text that is not JSON, a non-object, an unknown type, a bad envelope', () => {
    const code = (d: unknown) => {
      const r = parseServerFrame(d);
      return r instanceof ProtocolError ? r.code : 'ok';
    };
    expect(code('{nope')).toBe('BAD_JSON');
    expect(code('null')).toBe('INVALID_FRAME');
    expect(code('[1]')).toBe('INVALID_FRAME');
    expect(code('{"type":"message.exploded"}')).toBe('UNKNOWN_TYPE');
    expect(code('{"type":"toString"}')).toBe('UNKNOWN_TYPE');
    expect(code('{"type":"__proto__"}')).toBe('UNKNOWN_TYPE');
    expect(code({ type: 'message.new', cid: 'public:general', seq: '7', message })).toBe('INVALID_FRAME');
    expect(code({ type: 'reply', req_id: 1 })).toBe('INVALID_FRAME');
    expect(code({ type: 'typing.start', cid: 'public:general', parent_id: null, user })).toBe('ok');
  });

  it('checks the whole frame only when asked to', () => {
    const wrong = {
      type: 'message.new',
      cid: 'public:general',
      seq: 7,
      created_at: at,
      message: { ...message, reply_count: -1 },
    };
    expect(parseServerFrame(wrong)).not.toBeInstanceOf(ProtocolError);
    const r = parseFull(wrong);
    expect(r).toBeInstanceOf(ProtocolError);
    expect((r as ProtocolError).message).toContain('/message/reply_count');
  });

  it('knows every event type the protocol names', () => {
    const unknown = EVENT_TYPES.filter((t) => {
      const r = parseServerFrame({ type: t });
      return r instanceof ProtocolError && r.code === 'UNKNOWN_TYPE';
    });
    expect(unknown).toEqual([]);
  });
});

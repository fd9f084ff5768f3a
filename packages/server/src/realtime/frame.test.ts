import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { encodeTextFrame, OutFrame } from './frame.js';

type FrameFn = (
  data: Buffer,
  opts: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean },
) => Buffer[];
// ws's own framing, the reference our bytes must equal (exported, but not in @types/ws).
const wsFrame = (ws as unknown as { Sender: { frame: FrameFn } }).Sender.frame;

const sizes = [0, 1, 125, 126, 127, 1000, 65535, 65536, 200_000];

describe('encodeTextFrame', () => {
  it.each(sizes)('matches ws framing for a %i-byte payload', (n) => {
    const text = 'a'.repeat(n);
    const ref = Buffer.concat(
      wsFrame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }),
    );
    expect(encodeTextFrame(text).equals(ref)).toBe(true);
  });

  it('measures the payload in UTF-8 bytes, not characters', () => {
    const text = 'é🌍中'.repeat(30); // 90 chars of 2, 4 and 3 bytes: 270 bytes
    const bytes = encodeTextFrame(text);
    expect([bytes[0], bytes[1], bytes.readUInt16BE(2)]).toEqual([0x81, 126, 270]);
    expect(bytes.subarray(4).toString('utf8')).toBe(text);
  });
});

describe('OutFrame', () => {
  it('encodes once however many times its bytes are read', () => {
    const f = new OutFrame('{"type":"message.new"}');
    expect(f.wire).toBe(f.wire);
  });

  it('of() reuses the frame for the same text and makes a new one for another', () => {
    const a = OutFrame.of('{"type":"presence.changed","seq":1}');
    expect(OutFrame.of('{"type":"presence.changed","seq":1}')).toBe(a);
    const b = OutFrame.of('{"type":"presence.changed","seq":2}');
    expect(b).not.toBe(a);
    expect(b.wire.subarray(2).toString()).toBe('{"type":"presence.changed","seq":2}');
  });
});

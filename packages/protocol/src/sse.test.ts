import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('reads events cut anywhere, skips comments, keeps names and multi-line data', () => {
    const wire = ': parley\n\ndata: {"a":1}\n\n: ping\n\nevent: close\ndata: {"code":4000,\ndata: "reason":""}\r\n\r\n';
    const whole = new SseParser().feed(wire);
    expect(whole).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'close', data: '{"code":4000,\n"reason":""}' },
    ]);
    // Every cut of the same bytes into two chunks gives the same events.
    for (let i = 0; i <= wire.length; i++) {
      const p = new SseParser();
      expect([...p.feed(wire.slice(0, i)), ...p.feed(wire.slice(i))]).toEqual(whole);
    }
  });
});

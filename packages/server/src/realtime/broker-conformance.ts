/**
 * One conformance suite for every Broker implementation: what the hub relies on.
 * `*.test.ts` files call it with a factory for the implementation under test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, BusMessage } from './broker.js';

/** Makes `n` brokers that act as `n` nodes of one deployment. */
export type BrokerFactory = (n: number) => Promise<Broker[]>;

const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));

async function eventually(fn: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await settle(5);
  }
}

export function brokerConformance(name: string, make: BrokerFactory): void {
  describe(`Broker conformance: ${name}`, () => {
    let brokers: Broker[] = [];
    afterEach(async () => {
      await Promise.all(brokers.map((b) => b.close()));
      brokers = [];
    });

    const collect = (b: Broker) => {
      const got: { topic: string; msg: BusMessage }[] = [];
      b.onMessage((topic, msg) => got.push({ topic, msg }));
      return got;
    };

    it('delivers a published message to a subscriber on another node, unchanged', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('c:app:group:x');
      await b.settled();
      const frame = JSON.stringify({ type: 'message.new', cid: 'group:x', seq: 7, text: 'héllo\nworld\t✓' });
      a.publish('c:app:group:x', { type: 'message.new', seq: 7, cid: 'group:x', frame });
      await eventually(() => got.length === 1);
      expect(got[0]).toEqual({ topic: 'c:app:group:x', msg: { type: 'message.new', seq: 7, cid: 'group:x', frame } });
    });

    it('keeps live-only messages without a seq or cid', async () => {
      brokers = await make(1);
      const [a] = brokers as [Broker];
      const got = collect(a);
      a.subscribe('u:app:alice');
      await a.settled();
      a.publish('u:app:alice', { type: 'presence.changed', frame: '{"type":"presence.changed"}' });
      await eventually(() => got.length === 1);
      expect(got[0]?.msg).toEqual({ type: 'presence.changed', frame: '{"type":"presence.changed"}' });
    });

    it('keeps the one connection a user message is for', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('u:app:bob');
      await b.settled();
      const frame = '{"type":"call.signal","cid":"dm:x"}';
      a.publish('u:app:bob', { type: 'call.signal', cid: 'dm:x', conn: 'c-123', frame });
      await eventually(() => got.length === 1);
      expect(got[0]?.msg).toEqual({ type: 'call.signal', cid: 'dm:x', conn: 'c-123', frame });
    });

    it('keeps the author a shadowed message is visible to', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('c:app:group:x');
      await b.settled();
      const frame = '{"type":"message.new","cid":"group:x","seq":4}';
      a.publish('c:app:group:x', { type: 'message.new', seq: 4, cid: 'group:x', shadow: 'sam', frame });
      await eventually(() => got.length === 1);
      expect(got[0]?.msg).toEqual({ type: 'message.new', seq: 4, cid: 'group:x', shadow: 'sam', frame });
    });

    it('keeps the author of a message that moves unread counts, an empty one too', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('c:app:group:x');
      await b.settled();
      const frame = '{"type":"message.new","cid":"group:x","seq":5}';
      a.publish('c:app:group:x', { type: 'message.new', seq: 5, cid: 'group:x', counts: 'ada', frame });
      a.publish('c:app:group:x', { type: 'message.deleted', seq: 6, cid: 'group:x', counts: '', frame });
      await eventually(() => got.length === 2);
      expect(got[0]?.msg).toEqual({ type: 'message.new', seq: 5, cid: 'group:x', counts: 'ada', frame });
      expect(got[1]?.msg).toEqual({ type: 'message.deleted', seq: 6, cid: 'group:x', counts: '', frame });
    });

    it('delivers to every subscribed node and not to others', async () => {
      brokers = await make(3);
      const [a, b, c] = brokers as [Broker, Broker, Broker];
      const gotA = collect(a);
      const gotB = collect(b);
      const gotC = collect(c);
      a.subscribe('t1');
      b.subscribe('t1');
      c.subscribe('t2');
      await a.settled();
      await b.settled();
      await c.settled();
      c.publish('t1', { type: 'x', frame: '1' });
      await eventually(() => gotA.length === 1 && gotB.length === 1);
      await settle(50); // a window for a wrong delivery to c, which would have come with a's and b's
      expect(gotC).toHaveLength(0);
    });

    it('stops delivering after unsubscribe, and subscribe is idempotent', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('t');
      b.subscribe('t');
      await b.settled();
      a.publish('t', { type: 'x', frame: 'once' });
      await eventually(() => got.length === 1);
      await settle(50); // a window for a second copy, had the double subscribe made one
      expect(got).toHaveLength(1);
      b.unsubscribe('t');
      await b.settled();
      a.publish('t', { type: 'x', frame: 'after' });
      await settle(100); // a window for a delivery that must not come
      expect(got).toHaveLength(1);
    });

    it('preserves the order of one publisher', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('ordered');
      await b.settled();
      for (let i = 1; i <= 500; i++)
        a.publish('ordered', { type: 'message.new', seq: i, cid: 'group:o', frame: String(i) });
      await eventually(() => got.length === 500);
      expect(got.map((g) => g.msg.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    });

    it('delivers nothing after close', async () => {
      brokers = await make(2);
      const [a, b] = brokers as [Broker, Broker];
      const got = collect(b);
      b.subscribe('t');
      await b.settled();
      await b.close();
      a.publish('t', { type: 'x', frame: 'late' });
      await settle(100); // a window for a delivery that must not come
      expect(got).toHaveLength(0);
      brokers = [a];
    });
  });
}

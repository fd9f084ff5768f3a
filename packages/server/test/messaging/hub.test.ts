/**
 * The hub's ordering and gap filling (realtime/hub.ts), driven directly: bus messages are
 * published out of order on a MemoryBroker, the event log is a stub, the subscriber is a real
 * Connection over a fake socket. Timers are faked so the gap wait is stepped, never raced.
 */
import type { FastifyBaseLogger } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Metrics } from '../../src/platform/metrics.js';
import { type BusMessage, channelTopic, MemoryBroker } from '../../src/realtime/broker.js';
import { Connection } from '../../src/realtime/connection.js';
import { type EventLogReader, Hub } from '../../src/realtime/hub.js';

const APP = 'app-1';
const CID = 'group:g';
const GAP_MS = 150;

class FakeSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  send(frame: string) {
    this.sent.push(frame);
  }
  close() {
    this.readyState = WebSocket.CLOSED;
  }
  terminate() {
    this.close();
  }
}

const metrics = { framesOut: { inc() {} }, slowConsumers: { inc() {} } } as unknown as Metrics;
const log = { warn() {}, error() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;
const frame = (seq: number) => JSON.stringify({ type: 'message.new', cid: CID, seq });
const msg = (seq: number): BusMessage => ({ type: 'message.new', cid: CID, seq, frame: frame(seq) });

interface Rig {
  broker: MemoryBroker;
  hub: Hub;
  socket: FakeSocket;
  conn: Connection;
  /** Every (after, upTo) the hub asked the log for. */
  reads: [number, number][];
  /** Seqs handed to conn.deliver, duplicates included. */
  delivered: number[];
  publish(...seqs: number[]): void;
  /** Seqs the client socket received, in order (after flushing the connection's queue). */
  received(): Promise<number[]>;
}

/** A hub with one subscriber whose view is current to `known`; `logged` is what the log holds. */
function rig(known: number, reader: (after: number, upTo: number) => Promise<{ seq: number; frame: string }[]>): Rig {
  const broker = new MemoryBroker();
  const reads: [number, number][] = [];
  const readLog: EventLogReader = (appId, cid, after, upTo) => {
    expect([appId, cid]).toEqual([APP, CID]);
    reads.push([after, upTo]);
    return reader(after, upTo);
  };
  const hub = new Hub(broker, readLog, log, GAP_MS);
  const socket = new FakeSocket();
  const user = {
    id: 'u1',
    name: 'u1',
    username: null,
    image: null,
    role: 'user',
    created_at: '',
    updated_at: '',
  } as const;
  const conn = new Connection('c1', socket as unknown as WebSocket, APP, 'u1', user, 1 << 20, metrics);
  const delivered: number[] = [];
  const deliver = conn.deliver.bind(conn);
  conn.deliver = (cid, seq, f) => {
    delivered.push(seq);
    deliver(cid, seq, f);
  };
  hub.addConnection(conn);
  hub.subscribe(conn, CID, known, { member: true });
  return {
    broker,
    hub,
    socket,
    conn,
    reads,
    delivered,
    publish: (...seqs) => {
      for (const s of seqs) broker.publish(channelTopic(APP, CID), msg(s));
    },
    async received() {
      await new Promise((r) => setImmediate(r));
      return socket.sent.map((f) => JSON.parse(f).seq);
    },
  };
}

/** A log holding seqs 1..n (minus `missing`). */
const logOf =
  (n: number, missing: number[] = []) =>
  async (after: number, upTo: number) => {
    const out = [];
    for (let s = after + 1; s <= Math.min(upTo, n); s++)
      if (!missing.includes(s)) out.push({ seq: s, frame: frame(s) });
    return out;
  };

/** Let pending promise callbacks (the log read) run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('hub ordering', () => {
  it('in order: delivered at once, no log read', async () => {
    const r = rig(0, logOf(3));
    r.publish(1, 2, 3);
    expect(await r.received()).toEqual([1, 2, 3]);
    expect(r.reads).toEqual([]);
  });

  it('out of order within the gap wait: held back and released in seq order, no log read', async () => {
    const r = rig(4, logOf(9));
    r.publish(7, 6, 5);
    expect(await r.received()).toEqual([5, 6, 7]);
    r.publish(9, 8);
    expect(await r.received()).toEqual([5, 6, 7, 8, 9]);
    await vi.advanceTimersByTimeAsync(GAP_MS * 3);
    expect(r.reads).toEqual([]);
  });

  it('a hole that never comes over the bus is filled from the log after the gap wait', async () => {
    const r = rig(0, logOf(3));
    r.publish(1, 3);
    expect(await r.received()).toEqual([1]);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    expect(await r.received()).toEqual([1, 2, 3]);
    expect(r.reads).toEqual([[1, 2]]);
  });

  it('duplicates and stale seqs from the bus are dropped', async () => {
    const r = rig(0, logOf(3));
    r.publish(1, 2, 1, 2, 3, 2);
    expect(await r.received()).toEqual([1, 2, 3]);
    expect(r.delivered).toEqual([1, 2, 3]);
  });

  it('a seq that is not in the log (never committed) is skipped, not waited for forever', async () => {
    const r = rig(0, logOf(3, [2]));
    r.publish(1, 3);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    expect(await r.received()).toEqual([1, 3]);
  });

  it('live-only events (no seq) pass straight through, even while a gap is open', async () => {
    const r = rig(0, logOf(2));
    r.publish(2);
    r.broker.publish(channelTopic(APP, CID), { type: 'typing.start', cid: CID, frame: '{"type":"typing.start"}' });
    await new Promise((res) => setImmediate(res));
    expect(r.socket.sent).toEqual(['{"type":"typing.start"}']);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    expect(await r.received()).toEqual([undefined, 1, 2]);
  });

  it('regression: with two holes open, the second was never filled (events stuck after the first fill)', async () => {
    const r = rig(0, logOf(4));
    r.publish(2, 4);
    expect(await r.received()).toEqual([]);
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(GAP_MS);
      await settle();
    }
    expect(await r.received()).toEqual([1, 2, 3, 4]);
    expect(r.delivered).toEqual([1, 2, 3, 4]);
  });

  it('regression: a hole that arrived over the bus during the log read moved the hub backwards', async () => {
    let answer!: (rows: { seq: number; frame: string }[]) => void;
    const r = rig(0, () => new Promise((res) => (answer = res)));
    r.publish(2);
    await vi.advanceTimersByTimeAsync(GAP_MS); // the gap wait ends: the hub reads the log…
    expect(r.reads).toEqual([[0, 1]]);
    r.publish(1); // …and meanwhile the hole arrives over the bus.
    expect(await r.received()).toEqual([1, 2]);
    answer([{ seq: 1, frame: frame(1) }]); // the log read answers late, with what was delivered.
    await settle();
    r.publish(3); // the next event is in order and goes out at once.
    expect(await r.received()).toEqual([1, 2, 3]);
    expect(r.delivered).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(GAP_MS * 3);
    expect(r.reads).toHaveLength(1);
  });

  it('regression: a fill whose hole the bus closed during the read skipped a newer hole it never read', async () => {
    const answers: ((rows: { seq: number; frame: string }[]) => void)[] = [];
    const r = rig(0, (after, upTo) => {
      if (answers.length === 0) return new Promise((res) => answers.push(res));
      return logOf(4)(after, upTo);
    });
    r.publish(2);
    await vi.advanceTimersByTimeAsync(GAP_MS); // the hub reads (0, 1]…
    r.publish(1); // …the hole arrives over the bus meanwhile…
    r.publish(4); // …and a new one opens: 3 is late.
    expect(await r.received()).toEqual([1, 2]);
    answers[0]?.([{ seq: 1, frame: frame(1) }]); // the first read answers: it covered 1, not 3.
    await settle();
    expect(await r.received()).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    r.publish(3); // the late copy of 3, already filled from the log.
    expect(await r.received()).toEqual([1, 2, 3, 4]);
    expect(r.reads).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('a failed log read skips nothing: the fill is tried again', async () => {
    let fail = true;
    const r = rig(0, async (after, upTo) => {
      if (fail) throw new Error('database unavailable');
      return logOf(3)(after, upTo);
    });
    r.publish(3);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    expect(await r.received()).toEqual([]);
    fail = false;
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    expect(await r.received()).toEqual([1, 2, 3]);
  });

  it('each subscriber of a channel gets the same ordered stream', async () => {
    const r = rig(0, logOf(3));
    const other = new FakeSocket();
    const conn2 = new Connection('c2', other as unknown as WebSocket, APP, 'u2', r.conn.user, 1 << 20, metrics);
    r.hub.addConnection(conn2);
    r.hub.subscribe(conn2, CID, 0, { member: true });
    r.publish(3, 1);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    await settle();
    expect(await r.received()).toEqual([1, 2, 3]);
    expect(other.sent.map((f) => JSON.parse(f).seq)).toEqual([1, 2, 3]);
  });
});

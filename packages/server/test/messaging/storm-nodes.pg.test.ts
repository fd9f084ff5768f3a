/**
 * Two nodes on one database and one bus (Redis when REDIS_URL is set, else an in-process
 * network), driven through the interleavings of a reconnect storm, where the bus delivers late
 * and out of order and the log reads of the hub's gap fill are slow: a node's first subscriber
 * of a channel arrives while the bus has not yet started to deliver that channel to the node;
 * a gap fill still reading the log when the hole it reads for is closed by the bus and a new
 * one opens.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, BusMessage } from '../../src/realtime/broker.js';
import type { EventLogReader } from '../../src/realtime/hub.js';
import { clusterBrokers, eventually, type Harness, startHarness, TestSocket, testDatabase } from '../harness.js';
import { makeWorld, type World } from './world.js';

/**
 * A node's real broker with a hand on it: a SUBSCRIBE can be kept from reaching the bus (as
 * when Redis has not confirmed it yet), and messages the bus delivers can be held before the
 * node sees them. Nothing is made up: every message is one the real bus carried.
 */
class SteeredBroker implements Broker {
  /** Topics whose subscribe is deferred (matched by this) until `letSubscribe`. */
  deferSubscribe: ((topic: string) => boolean) | null = null;
  private readonly deferred = new Set<string>();
  /** Messages held before the node gets them, until `deliverHeld`. */
  holdIncoming: ((topic: string, msg: BusMessage) => boolean) | null = null;
  private readonly heldIn: [string, BusMessage][] = [];
  /** The seqs of channel events handed to the node, in order. */
  readonly passed: number[] = [];
  private handler: (topic: string, msg: BusMessage) => void = () => {};

  constructor(private readonly inner: Broker) {
    inner.onMessage((topic, msg) => {
      if (this.holdIncoming?.(topic, msg)) this.heldIn.push([topic, msg]);
      else this.pass(topic, msg);
    });
  }
  publish(topic: string, msg: BusMessage): void {
    this.inner.publish(topic, msg);
  }
  subscribe(topic: string): void {
    if (this.deferSubscribe?.(topic)) {
      this.deferred.add(topic);
      return;
    }
    this.inner.subscribe(topic);
  }
  unsubscribe(topic: string): void {
    this.deferred.delete(topic);
    this.inner.unsubscribe(topic);
  }
  settled(): Promise<void> {
    return this.inner.settled();
  }
  onMessage(handler: (topic: string, msg: BusMessage) => void): void {
    this.handler = handler;
  }
  /** Send the deferred SUBSCRIBEs now; resolves once the bus delivers the topics to this node. */
  async letSubscribe(): Promise<void> {
    this.deferSubscribe = null;
    for (const t of this.deferred) this.inner.subscribe(t);
    this.deferred.clear();
    await this.inner.settled();
  }
  deliverHeld(): void {
    this.holdIncoming = null;
    for (const [t, m] of this.heldIn.splice(0)) this.pass(t, m);
  }
  private pass(topic: string, msg: BusMessage): void {
    if (msg.seq !== undefined && topic.startsWith('c:')) this.passed.push(msg.seq);
    this.handler(topic, msg);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const brokerOf = clusterBrokers('storm');
const masterKey = randomBytes(32).toString('hex');
let db: Awaited<ReturnType<typeof testDatabase>>;
let a: Harness;
let b: Harness;
let brokerB: SteeredBroker;
let w: World;
let urlB: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  db = await testDatabase();
  a = await startHarness({ nodeId: 'sa', masterKey }, { database: db.database, broker: await brokerOf() });
  brokerB = new SteeredBroker(await brokerOf());
  b = await startHarness({ nodeId: 'sb', masterKey }, { database: db.database, broker: brokerB });
  w = await makeWorld(a, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }, { id: 'dave' }]);
  // Every socket is on node B; node A only sends (its REST API, injected).
  urlB = await b.listen();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await b?.close();
  await a?.close();
  await db?.drop();
});

const connect = async (url: string, user: string) => {
  const s = await TestSocket.connect(url, w.app, user);
  sockets.push(s);
  return s;
};
const seqsOn = (s: TestSocket, cid: string) =>
  s
    .events()
    .filter((f) => f.cid === cid && typeof f.seq === 'number' && f.type !== 'read.updated')
    .map((f) => f.seq as number);
const upTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => i + from);

/**
 * Node B's gap-fill reads of the log, held until the test lets each go: what a slow database
 * (a storm's) does to them. The reads themselves are the real ones.
 */
function gateLogReads(h: Harness) {
  // The hub takes its reader at construction; it is swapped here for one that waits first.
  const hub = h.server.svc.hub as unknown as { readLog: EventLogReader };
  const real = hub.readLog;
  type Read = { range: [number, number]; go: () => void; answered: boolean };
  const waiting: Read[] = [];
  hub.readLog = async (appId, cid, after, upTo) => {
    const read: Read = { range: [after, upTo], go: () => {}, answered: false };
    await new Promise<void>((go) => {
      read.go = go;
      waiting.push(read);
    });
    try {
      return await real(appId, cid, after, upTo);
    } finally {
      read.answered = true;
    }
  };
  return {
    waiting,
    /** Let the oldest held read run; resolves once the hub has had its answer. */
    async answerOldest(): Promise<void> {
      const read = waiting.shift();
      if (!read) throw new Error('no read is waiting');
      read.go();
      // The hub goes on in the microtasks right after the answer; a poll is a later task.
      await eventually(() => read.answered);
    },
    restore(): void {
      hub.readLog = real;
      for (const r of waiting.splice(0)) r.go();
    },
  };
}

describe('reconnect storm on two nodes', () => {
  it('an event committed on the other node before the bus delivers the channel here reaches every subscriber', async () => {
    const cid = await w.channel('alice', 'group', 'pre-sub', ['bob', 'carol', 'dave']);
    const start = await w.lastSeq(cid);
    brokerB.deferSubscribe = (t) => t.endsWith(`:${cid}`);
    const bob = await connect(urlB, 'bob');
    const carol = await connect(urlB, 'carol');
    const r = await bob.request('channel.watch', { cid, since: start });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    // Committed on A and published while B's SUBSCRIBE is still on its way: B never hears it.
    const lost = await w.send('alice', cid, 'published before B listens');
    await brokerB.letSubscribe();
    const next = await w.send('dave', cid, 'the next one shows the hole');
    for (const s of [bob, carol]) {
      await s.waitFor((f) => f.type === 'message.new' && f.message.id === next.id);
      expect(seqsOn(s, cid).filter((q) => q > start)).toEqual(upTo(next.seq, start + 1));
    }
    expect(lost.seq).toBe(next.seq - 1);
  });

  it('regression: a gap fill whose hole the bus closed while it read skipped the next hole without reading it', async () => {
    const cid = await w.channel('alice', 'group', 'stale-fill', ['bob', 'carol', 'dave']);
    const s0 = await w.lastSeq(cid);
    const bob = await connect(urlB, 'bob');
    const carol = await connect(urlB, 'carol');
    const gate = gateLogReads(b);
    try {
      // s0+1 is late on the bus: s0+2 arrives first and B's hub starts a gap fill, whose read
      // of the log is slow.
      brokerB.holdIncoming = (_t, m) => m.seq === s0 + 1;
      await w.send('alice', cid, 'one (late)');
      await w.send('dave', cid, 'two');
      await eventually(() => gate.waiting.length === 1);
      expect(gate.waiting[0]?.range).toEqual([s0, s0 + 1]);
      // The late one arrives while the fill still reads: the hole is closed, both go out.
      brokerB.deliverHeld();
      // A new hole: s0+3 is late too, s0+4 is here first.
      brokerB.holdIncoming = (_t, m) => m.seq === s0 + 3;
      await w.send('alice', cid, 'three (late)');
      const four = await w.send('dave', cid, 'four');
      await eventually(() => brokerB.passed.includes(four.seq));
      // The first fill's answer comes back now: it read (s0, s0+1], nothing of the new hole,
      // which must not be taken for "not in the log".
      await gate.answerOldest();
    } finally {
      gate.restore();
      brokerB.deliverHeld();
    }
    const last = await w.send('alice', cid, 'five');
    for (const s of [bob, carol]) {
      await s.waitFor((f) => f.type === 'message.new' && f.message.id === last.id);
      expect(seqsOn(s, cid).filter((q) => q > s0)).toEqual(upTo(last.seq, s0 + 1));
    }
  });
});

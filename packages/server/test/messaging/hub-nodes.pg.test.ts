/**
 * Two server nodes on one bus (MemoryNetwork) and one database. A node's publish that is
 * lost or late on the bus leaves a hole at the other subscribers: the hub fills it from the
 * event log, so every socket still sees each event once, in seq order.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusMessage, MemoryBroker, MemoryNetwork } from '../../src/realtime/broker.js';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { makeWorld, type World } from './world.js';

/** A broker whose publishes can be held back (then released late, or never). */
class ControlledBroker extends MemoryBroker {
  hold: ((msg: BusMessage) => boolean) | null = null;
  readonly held: [string, BusMessage][] = [];
  override publish(topic: string, msg: BusMessage): void {
    if (this.hold?.(msg)) {
      this.held.push([topic, msg]);
      return;
    }
    super.publish(topic, msg);
  }
  release(): void {
    for (const [t, m] of this.held.splice(0)) super.publish(t, m);
  }
}

let a: Harness;
let b: Harness;
let brokerA: ControlledBroker;
let w: World;
let urlA: string;
let urlB: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  const network = new MemoryNetwork();
  brokerA = new ControlledBroker(network);
  // One master key, so both nodes can open the app secrets sealed in the shared database.
  const masterKey = randomBytes(32).toString('hex');
  a = await startHarness({ masterKey }, { broker: brokerA });
  b = await startHarness({ masterKey }, { broker: new MemoryBroker(network), database: a.database });
  w = await makeWorld(a, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol' }]);
  [urlA, urlB] = [await a.listen(), await b.listen()];
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await b.close();
  await a.close();
});

const connect = async (url: string, user: string) => {
  const s = await TestSocket.connect(url, w.app, user);
  sockets.push(s);
  return s;
};
/** Send through node B's REST API. */
const sendViaB = async (user: string, cid: string, text: string) => {
  const r = await b.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await w.app.user(user),
    payload: { text },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.message;
};
const seqsOn = (s: TestSocket, cid: string) =>
  s
    .events()
    .filter((f) => f.cid === cid && typeof f.seq === 'number')
    .map((f) => f.seq as number);

describe('two nodes, one bus', () => {
  it('a publish that is late on the bus: the other node fills the hole from the log and drops the late copy', async () => {
    const cid = await w.channel('alice', 'group', 'late', ['bob', 'carol']);
    const bob = await connect(urlB, 'bob');
    const carol = await connect(urlA, 'carol');
    brokerA.hold = (m) => m.type === 'message.new';
    const m1 = await w.send('alice', cid, 'one (late on the bus)');
    brokerA.hold = null;
    const m2 = await sendViaB('alice', cid, 'two');
    expect([m1.seq, m2.seq]).toEqual([1, 2]);
    for (const s of [bob, carol]) await s.waitFor((f) => f.type === 'message.new' && f.message.id === m2.id);
    // Now the late copy of seq 1 arrives: already delivered from the log, so dropped.
    brokerA.release();
    const m3 = await sendViaB('bob', cid, 'three');
    for (const s of [bob, carol]) {
      await s.waitFor((f) => f.type === 'message.new' && f.message.id === m3.id);
      expect(seqsOn(s, cid)).toEqual([1, 2, 3]);
      expect(s.events('message.new').map((f) => f.message.id)).toEqual([m1.id, m2.id, m3.id]);
    }
  });

  it('publishes lost for good: every node still delivers every event once, in order', async () => {
    const cid = await w.channel('alice', 'group', 'lossy', ['bob', 'carol']);
    const sockets = [await connect(urlB, 'bob'), await connect(urlA, 'carol'), await connect(urlB, 'carol')];
    let n = 0;
    // Node A loses every third publish of this channel's events.
    brokerA.hold = (m) => m.cid === cid && m.seq !== undefined && ++n % 3 === 0;
    const sent = [];
    for (let i = 0; i < 12; i++)
      sent.push(i % 2 ? await sendViaB('bob', cid, `b${i}`) : await w.send('alice', cid, `a${i}`));
    await w.rest('alice', 'POST', `/v1/messages/${sent[0].id}/reactions`, { type: 'like' });
    brokerA.hold = null;
    brokerA.held.splice(0);
    const last = await sendViaB('carol', cid, 'the end');
    for (const s of sockets) {
      await s.waitFor((f) => f.type === 'message.new' && f.message.id === last.id);
      expect(seqsOn(s, cid)).toEqual(Array.from({ length: last.seq }, (_, i) => i + 1));
    }
  });
});

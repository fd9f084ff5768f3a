/**
 * Many writers at once: seqs stay unique and gap-free, every socket sees every message once
 * and in order, and one client id sent twice at the same moment is one message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness, type TestSocket } from '../harness.js';
import { allEvents, makeWorld, newId, type World } from './world.js';

let h: Harness;
let w: World;
const USERS = ['ann', 'ben', 'cat'];

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(
    h,
    USERS.map((id) => ({ id })),
  );
});
afterAll(async () => {
  await w.closeSockets();
  await h.close();
});

let reqIds = 1_000_000;
/** A request with a generous reply timeout (hundreds are in flight at once on 2 shared cores). */
function request(s: TestSocket, type: string, fields: Record<string, unknown>): Promise<any> {
  const req_id = reqIds++;
  const p = s.waitFor((f) => f.type === 'reply' && f.req_id === req_id, 120_000);
  s.sendRaw(JSON.stringify({ type, req_id, ...fields }));
  return p;
}

describe('concurrency', () => {
  it('300 concurrent sends over REST and WS: unique, gap-free seqs; every socket gets each once, in order', async () => {
    const cid = await w.channel('ann', 'group', 'busy', ['ben', 'cat']);
    const sockets = await Promise.all(USERS.map((u) => w.socket(u)));
    const N = 300;
    const sends = Array.from({ length: N }, (_, k) => {
      const who = k % 3;
      const id = newId();
      const text = `msg ${k} from ${USERS[who]}`;
      // A third of the REST sends let the server pick the id.
      if (k % 2 === 0)
        return w
          .rest(USERS[who]!, 'POST', `/v1/channels/${cid}/messages`, k % 6 === 0 ? { text } : { id, text })
          .then((r) => {
            expect(r.status, JSON.stringify(r.body)).toBe(200);
            return r.body.message;
          });
      return request(sockets[who]!, 'message.send', { cid, message: { id, text } }).then((r) => {
        expect(r.ok, JSON.stringify(r)).toBe(true);
        return r.message;
      });
    });
    const sent = await Promise.all(sends);

    const seqs = sent.map((m) => m.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(N);
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const ids = new Set(sent.map((m) => m.id));
    expect(ids.size).toBe(N);

    // The log holds seqs 1..last_seq exactly once each, and the 300 messages as message.new.
    const last = await w.lastSeq(cid);
    const events = await allEvents(w, 'ann', cid);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const logged = events.filter((e) => e.type === 'message.new').map((e) => e.message.id);
    expect(new Set(logged)).toEqual(ids);
    for (const m of sent) expect(events[m.seq - 1].message.id).toBe(m.id);

    // A marker after everything: once it arrives, nothing of the 300 is still in flight.
    const marker = await w.send('ann', cid, 'marker');
    await eventually(
      () => sockets.every((s) => s.frames.some((f) => f.type === 'message.new' && f.message.id === marker.id)),
      60_000,
    );
    for (const s of sockets) {
      const got = s.events('message.new').filter((f) => ids.has(f.message.id));
      expect(got).toHaveLength(N);
      expect(new Set(got.map((f) => f.message.id)).size).toBe(N);
      const order = got.map((f) => f.seq);
      for (let i = 1; i < order.length; i++) expect(order[i]).toBeGreaterThan(order[i - 1]!);
      // Every logged event on this socket, not only messages, arrives in strictly increasing seq order.
      const all = s
        .events()
        .filter((f) => typeof f.seq === 'number' && f.cid === cid)
        .map((f) => f.seq);
      expect(all).toEqual(Array.from({ length: last + 1 }, (_, i) => i + 1));
    }
  }, 180_000);

  it('the same client id sent at the same moment over REST and WS is one message', async () => {
    const cid = await w.channel('ann', 'group', 'race', ['ben', 'cat']);
    const [ann, cat] = [await w.socket('ann'), await w.socket('cat')];
    const PAIRS = 25;
    const ids = Array.from({ length: PAIRS }, () => newId());
    const results = await Promise.all(
      ids.flatMap((id, i) => [
        w.rest('ann', 'POST', `/v1/channels/${cid}/messages`, { id, text: `pair ${i}` }).then((r) => {
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          return r.body.message;
        }),
        request(ann, 'message.send', { cid, message: { id, text: `pair ${i}` } }).then((r) => {
          expect(r.ok, JSON.stringify(r)).toBe(true);
          return r.message;
        }),
      ]),
    );
    for (let i = 0; i < PAIRS; i++) {
      const [a, b] = [results[2 * i], results[2 * i + 1]];
      expect(a.id).toBe(ids[i]);
      expect(b).toMatchObject({ id: ids[i], seq: a.seq, created_at: a.created_at, text: a.text });
    }
    expect(await w.lastSeq(cid)).toBe(PAIRS);
    const events = await allEvents(w, 'cat', cid);
    expect(events.map((e) => e.message.id).sort()).toEqual([...ids].sort());
    await eventually(() => cat.events('message.new').length >= PAIRS, 30_000);
    const marker = await w.send('ben', cid, 'marker');
    await cat.waitFor((f) => f.type === 'message.new' && f.message.id === marker.id, 30_000);
    expect(cat.events('message.new').map((f) => f.seq)).toEqual(Array.from({ length: PAIRS + 1 }, (_, i) => i + 1));
  }, 120_000);
});

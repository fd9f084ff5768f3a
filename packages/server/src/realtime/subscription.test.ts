/**
 * Subscription: the one owner of a (connection, channel)'s delivery state. Live offers and
 * replays, in any interleaving, put each seq on the socket at most once; held live events go
 * out in seq order when the last hold ends.
 */
import { describe, expect, it } from 'vitest';
import { type LogPageReader, Subscription } from './subscription.js';

const frame = (seq: number) => `{"seq":${seq}}`;
const seqsOf = (sent: string[]) => sent.map((f) => (JSON.parse(f) as { seq: number }).seq);

/** A log holding seqs 1..last, read in pages; counts reads. */
function log(last: number) {
  const reads: { after: number; limit: number; upTo: number | undefined }[] = [];
  const read: LogPageReader = async (after, limit, upTo) => {
    reads.push({ after, limit, upTo });
    const out: { seq: number; frame: string }[] = [];
    for (let s = after + 1; s <= Math.min(last, upTo ?? last) && out.length < limit; s++)
      out.push({ seq: s, frame: frame(s) });
    return out;
  };
  return { read, reads };
}

function make(known: number) {
  const sent: string[] = [];
  const sub = new Subscription('c', known, (f) => sent.push(typeof f === 'string' ? f : f.text));
  return { sub, sent };
}

describe('Subscription', () => {
  it('sends live events above its seq once, in the order offered, and drops duplicates', () => {
    const { sub, sent } = make(3);
    for (const s of [2, 3, 4, 4, 5, 5, 3]) sub.offer(s, frame(s));
    expect(seqsOf(sent)).toEqual([4, 5]);
    expect(sub.lastSeq).toBe(5);
    expect(sub.baseSeq).toBe(3);
  });

  it('holds live events across nested holds and releases them sorted, without duplicates', () => {
    const { sub, sent } = make(0);
    sub.hold();
    sub.hold();
    for (const s of [3, 1, 2, 2]) sub.offer(s, frame(s));
    sub.release();
    expect(sent).toEqual([]);
    sub.release();
    expect(seqsOf(sent)).toEqual([1, 2, 3]);
    sub.release(); // one release too many changes nothing
    sub.offer(4, frame(4));
    expect(seqsOf(sent)).toEqual([1, 2, 3, 4]);
  });

  it('a fresh replay sends the log after its seq in pages, then the held live events it did not send', async () => {
    const { sub, sent } = make(2);
    const l = log(1205);
    sub.hold();
    // Live events arrive while the replay runs: some it also reads, some beyond the log's end.
    const replay = sub.replayHeld(l.read, { after: 2 });
    for (const s of [1000, 1206, 1207]) sub.offer(s, frame(s));
    expect(await replay).toBe(1205);
    sub.release();
    expect(seqsOf(sent)).toEqual(Array.from({ length: 1205 }, (_, i) => i + 3));
    expect(l.reads.map((r) => r.after)).toEqual([2, 502, 1002]);
    expect(sub.lastSeq).toBe(1207);
    expect(sub.baseSeq).toBe(2);
  });

  it('a replay on a subscription that sent live events resends only what it never sent live', async () => {
    const { sub, sent } = make(10);
    for (const s of [11, 12]) sub.offer(s, frame(s));
    const l = log(12);
    // The client asks from 7: 8..10 were never sent here, 11 and 12 were.
    await sub.replay(l.read, { after: 7, upTo: sub.baseSeq });
    expect(seqsOf(sent)).toEqual([11, 12, 8, 9, 10]);
    expect(sub.baseSeq).toBe(7);
    // Asking again from 7 sends nothing twice; from 5 only 6 and 7.
    await sub.replay(l.read, { after: 7, upTo: sub.baseSeq });
    await sub.replay(l.read, { after: 5, upTo: sub.baseSeq });
    expect(seqsOf(sent)).toEqual([11, 12, 8, 9, 10, 6, 7]);
    // A replay that reads past lastSeq (no upTo) sends each new seq once and moves lastSeq.
    const more = log(14);
    await sub.replay(more.read, { after: 5 });
    expect(seqsOf(sent)).toEqual([11, 12, 8, 9, 10, 6, 7, 13, 14]);
    expect(sub.lastSeq).toBe(14);
  });

  it('two replays racing each other put every seq on the socket once', async () => {
    const { sub, sent } = make(0);
    const l = log(40);
    sub.hold();
    const a = sub.replayHeld(l.read, { after: 0, pageSize: 7 });
    const b = sub.replayHeld(l.read, { after: 10, pageSize: 3 });
    for (let s = 35; s <= 45; s++) sub.offer(s, frame(s));
    await Promise.all([a, b]);
    sub.release();
    const seqs = seqsOf(sent);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
  });

  it('a catch-up replay while a watch checks access: the watch replay of older events goes out first', async () => {
    // The connect catch-up holds the new subscription (known 4) and reads past it; a
    // channel.watch from 1 holds it too while its access is read. The catch-up's 5 must not
    // reach the socket before the watch's 2..4 (CI saw [5, 2, 3, 4] once).
    const { sub, sent } = make(4);
    const l = log(5);
    sub.hold(); // the catch-up
    sub.hold(); // the watch, range not known yet
    sub.offer(5, frame(5)); // the live publish, held
    await sub.replayHeld(l.read, { after: 4, upTo: 5 });
    sub.release();
    expect(sent).toEqual([]);
    await sub.replayHeld(l.read, { after: 1, upTo: sub.baseSeq });
    sub.release();
    expect(seqsOf(sent)).toEqual([2, 3, 4, 5]);
    expect(sub.lastSeq).toBe(5);
    sub.offer(5, frame(5));
    sub.offer(6, frame(6));
    expect(seqsOf(sent)).toEqual([2, 3, 4, 5, 6]);
  });

  it('a reload skips to the channel seq: nothing at or below it is sent live afterwards', () => {
    const { sub, sent } = make(3);
    sub.skipTo(50);
    sub.offer(50, frame(50));
    sub.offer(51, frame(51));
    expect(seqsOf(sent)).toEqual([51]);
  });

  it('tracks its reasons: the subscription ends when none is left', () => {
    const { sub } = make(0);
    sub.add('member');
    sub.add('watching');
    expect(sub.drop('watching')).toBe(false);
    expect(sub.member).toBe(true);
    expect(sub.drop('member')).toBe(true);
  });
  it('passes the seq of an event it may not see (a shadowed message), live and in replays', async () => {
    const sent: string[] = [];
    const sub = new Subscription(
      'c',
      0,
      (f) => sent.push(typeof f === 'string' ? f : f.text),
      (a) => a === 'me',
    );
    sub.offer(1, frame(1));
    sub.offer(2, null);
    sub.offer(3, frame(3));
    expect(seqsOf(sent)).toEqual([1, 3]);
    expect(sub.lastSeq).toBe(3);
    // Held behind a replay, a passed seq still moves lastSeq in order.
    sub.hold();
    sub.offer(5, frame(5));
    sub.offer(4, null);
    sub.release();
    expect(seqsOf(sent)).toEqual([1, 3, 5]);
    expect(sub.lastSeq).toBe(5);
    // A replay sends what this subscriber may see: its own shadowed events, not another's.
    const rows = [
      { seq: 6, frame: frame(6), shadowOf: 'someone' },
      { seq: 7, frame: frame(7), shadowOf: 'me' },
      { seq: 8, frame: frame(8), shadowOf: null },
    ];
    const read: LogPageReader = async (after) => rows.filter((r) => r.seq > after);
    expect(await sub.replay(read, { after: 5 })).toBe(8);
    expect(seqsOf(sent)).toEqual([1, 3, 5, 7, 8]);
    expect(sub.lastSeq).toBe(8);
  });
});

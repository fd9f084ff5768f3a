import type { Channel } from '@parley/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  channelStateFrom,
  type LocalMessage,
  mergeMessages,
  mergeSnapshot,
  upsertMessage,
  withMuted,
} from './state.js';

/** Just what ordering reads: an id, a seq (0 while unsent) and a version to tell copies apart. */
const msg = (id: number, seq: number, v: string) =>
  ({ id: `m${id}`, seq, text: v, status: seq > 0 ? 'sent' : 'sending' }) as unknown as LocalMessage;

/**
 * A list as the state keeps it: stored messages by seq, then unsent ones. As on a server, a
 * message's seq is its own and never changes once stored (here: its id), and no two share one.
 */
const held = fc
  .uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 40 }), stored: fc.boolean() }), {
    selector: (m) => m.id,
    maxLength: 25,
  })
  .map((ms) => ms.reduce<LocalMessage[]>((list, m) => upsertMessage(list, msg(m.id, m.stored ? m.id : 0, 'held')), []));
/** A page from the server: stored messages, each once. */
const page = fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 12 });

/** What upsertMessage gave before its fast path: the list rebuilt one element at a time. */
function upsertByRebuild(list: readonly LocalMessage[], m: LocalMessage): LocalMessage[] {
  const stored = list.filter((x) => x.id !== m.id && x.seq > 0);
  const pending = list.filter((x) => x.id !== m.id && x.seq === 0);
  if (m.seq === 0) return [...stored, ...pending, m];
  let i = stored.length;
  while (i > 0 && (stored[i - 1] as LocalMessage).seq > m.seq) i--;
  stored.splice(i, 0, m);
  return [...stored, ...pending];
}

describe('upsertMessage', () => {
  it('gives what rebuilding the list gives, and never changes the list it is given', () => {
    // A stored message keeps its seq (here: its id); one unsent has seq 0 until it is stored.
    const incoming = fc.record({ id: fc.integer({ min: 1, max: 45 }), stored: fc.boolean() });
    fc.assert(
      fc.property(held, incoming, (list, x) => {
        const storedBefore = list.some((h) => h.id === `m${x.id}` && h.seq > 0);
        const m = msg(x.id, x.stored || storedBefore ? x.id : 0, 'new');
        const before = [...list];
        expect(upsertMessage(list, m)).toEqual(upsertByRebuild(list, m));
        expect(list).toEqual(before);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a burst in order: shown, acked and its event, 300 sends', () => {
    let list: LocalMessage[] = [msg(1, 1, 'old')];
    let model: LocalMessage[] = list;
    for (let i = 2; i <= 301; i++) {
      list = upsertMessage(list, msg(i, 0, 'sending'));
      model = upsertByRebuild(model, msg(i, 0, 'sending'));
    }
    for (let i = 2; i <= 301; i++)
      for (const v of ['ack', 'event']) {
        list = upsertMessage(list, msg(i, i, v));
        model = upsertByRebuild(model, msg(i, i, v));
        expect(list).toEqual(model);
      }
    expect(list.map((m) => m.seq)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
  });
});

describe('mergeMessages', () => {
  it('gives what upsertMessage gives for each message of the page in turn', () => {
    fc.assert(
      fc.property(held, page, (list, p) => {
        const incoming = p.map((id) => msg(id, id, 'page'));
        const oneByOne = incoming.reduce<LocalMessage[]>((l, m) => upsertMessage(l, m), list);
        expect(mergeMessages(list, incoming)).toEqual(oneByOne);
      }),
    );
  });

  it('keeps a held message as held with keepHeld, as the skip-if-held loop did', () => {
    fc.assert(
      fc.property(held, page, (list, p) => {
        const incoming = p.map((id) => msg(id, id, 'page'));
        let oneByOne: LocalMessage[] = [...list];
        for (const m of incoming) if (!oneByOne.some((x) => x.id === m.id)) oneByOne = upsertMessage(oneByOne, m);
        expect(mergeMessages(list, incoming, true)).toEqual(oneByOne);
      }),
    );
  });

  it('returns the same list when nothing is new', () => {
    const list = [msg(1, 1, 'a'), msg(2, 2, 'b'), msg(3, 0, 'c')];
    expect(mergeMessages(list, [])).toBe(list);
    expect(mergeMessages(list, [msg(2, 2, 'b2')], true)).toBe(list);
  });
});

describe('withMuted', () => {
  const me = 'bob';
  const channel = (lastSeq: number, muted: boolean) =>
    ({
      cid: 'public:general',
      type: 'public',
      id: 'general',
      last_seq: lastSeq,
      membership: { user_id: me, role: 'member', last_read_seq: lastSeq, muted },
    }) as unknown as Channel;

  it('is not undone by a snapshot that was in flight when you muted (same last_seq)', () => {
    const loaded = channelStateFrom(channel(7, false), undefined);
    const muted = withMuted(loaded, me, true);
    // The channel's snapshot, asked for before the mute and answered after it.
    const stale = mergeSnapshot(muted, channel(7, false), undefined, me);
    expect(stale.channel.membership?.muted).toBe(true);
  });

  it('gives way to a snapshot from after a later event (unmuted on another device)', () => {
    const muted = withMuted(channelStateFrom(channel(7, false), undefined), me, true);
    const later = mergeSnapshot(muted, channel(9, false), undefined, me);
    expect(later.channel.membership?.muted).toBe(false);
  });
});

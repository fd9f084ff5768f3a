import { describe, expect, it } from 'vitest';
import { KeptPasses, type MarkRow, type PassRow } from './kept-passes.js';

const asked = [{ appId: 'a', userId: 'u', cid: 'c1' }];

/** What the statement would return for marks `r` of c1, told `hints`, over `messages` (seq → author). */
function statement(kept: KeptPasses, messages: string[], r: number, epoch = 1) {
  const hint = kept.hints(asked).find((k) => k.cid === 'c1' && k.r === r);
  const last = messages.length;
  const from = hint && hint.epoch === epoch && hint.up_to >= r && hint.up_to <= last ? hint.up_to : r;
  const marks: MarkRow[] = [['a', 'c1', r, from, last, epoch]];
  const by = new Map<string, number>();
  messages.forEach((author, i) => {
    if (i + 1 > from) by.set(author, (by.get(author) ?? 0) + 1);
  });
  const parts: PassRow[] = [...by].map(([author, n]) => ['a', 'c1', from, author, n, 0]);
  const mem: [string, string, string, boolean, number][] = [['a', 'u', 'c1', false, r]];
  return kept.take(asked, marks, parts, mem);
}

const counts = (passes: ReturnType<KeptPasses['take']>['passes']) =>
  Object.fromEntries([...(passes.get('a')?.get('c1')?.get(0)?.by ?? [])].map(([author, c]) => [author, c[0]]));

describe('KeptPasses', () => {
  it('reads a pass whole once, then adds only what came since, until the epoch moves', () => {
    const kept = new KeptPasses();
    const messages = ['x', 'y', 'x'];
    let got = statement(kept, messages, 0);
    expect(got).toMatchObject({ whole: 1, kept: 0 });
    expect(counts(got.passes)).toEqual({ x: 2, y: 1 });
    messages.push('y', 'z');
    got = statement(kept, messages, 0);
    expect(got).toMatchObject({ whole: 0, kept: 1 });
    expect(counts(got.passes)).toEqual({ x: 2, y: 2, z: 1 });
    expect(got.passes.get('a')?.get('c1')?.get(0)).toMatchObject({ n: 5, nc: 0, upTo: 5 });
    // A message of the kept part went (a new epoch): the pass is read whole again.
    messages.splice(0, 1);
    got = statement(kept, messages, 0, 2);
    expect(got).toMatchObject({ whole: 1, kept: 0 });
    expect(counts(got.passes)).toEqual({ x: 1, y: 2, z: 1 });
  });

  it("hints the pass after a member's new read mark once it moved, not the one it left", () => {
    const kept = new KeptPasses();
    statement(kept, ['x', 'y', 'x'], 0);
    expect(kept.hints(asked)).toEqual([{ app_id: 'a', cid: 'c1', r: 0, up_to: 3, epoch: 1 }]);
    // Unmoved, the mark names the same pass batch after batch.
    statement(kept, ['x', 'y', 'x', 'y'], 0);
    expect(kept.hints(asked)).toEqual([{ app_id: 'a', cid: 'c1', r: 0, up_to: 4, epoch: 1 }]);
    // They read up to 2: the next batch reads from there, and the hint follows.
    const got = statement(kept, ['x', 'y', 'x', 'y', 'z'], 2);
    expect(got).toMatchObject({ whole: 1, kept: 0 });
    expect(kept.hints(asked)).toEqual([{ app_id: 'a', cid: 'c1', r: 2, up_to: 5, epoch: 1 }]);
  });

  it('refuses to add to a pass it no longer holds as it told', () => {
    const kept = new KeptPasses();
    statement(kept, ['x'], 0);
    expect(() => kept.take(asked, [['a', 'c1', 0, 5, 6, 1]], [], [['a', 'u', 'c1', false, 0]])).toThrow(/no kept pass/);
    // The pass it held is dropped, so the next batch reads it whole.
    expect(kept.hints(asked)).toEqual([]);
  });

  it('keeps at most its weight of authors, the least recently used going first', () => {
    const kept = new KeptPasses(4, 10);
    const take = (cid: string, r: number, authors: string[]) =>
      kept.take(
        [{ appId: 'a', userId: 'u', cid }],
        [['a', cid, r, r, r + authors.length, 1]],
        authors.map((author) => ['a', cid, r, author, 1, 0] as PassRow),
        [['a', 'u', cid, false, r]],
      );
    take('c1', 0, ['x']); // weight 2
    take('c2', 0, ['x']); // weight 4
    expect(kept.size).toBe(2);
    take('c3', 0, ['x', 'y']); // weight 7: c1 and c2 go, the oldest first
    expect(kept.size).toBe(1);
    expect(kept.hints([{ appId: 'a', userId: 'u', cid: 'c3' }])).toEqual([
      { app_id: 'a', cid: 'c3', r: 0, up_to: 2, epoch: 1 },
    ]);
  });
});

/** Channel history: latest, before, after, around, limits, and paging back without gaps or repeats. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { expectError, makeWorld, newId, type World } from './world.js';

let h: Harness;
let w: World;
let cid: string;
/** The 40 messages, oldest first. Their seqs have holes: reactions take seqs too. */
let msgs: any[];

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }, { id: 'dave' }]);
  cid = await w.channel('alice', 'group', 'hist', ['bob']);
  msgs = [];
  for (let i = 1; i <= 40; i++) {
    msgs.push(await w.send(i % 3 ? 'alice' : 'bob', cid, `m${i}`));
    if (i % 4 === 0) await w.rest('bob', 'POST', `/v1/messages/${msgs.at(-1).id}/reactions`, { type: 'like' });
  }
});
afterAll(async () => {
  await h.close();
});

const page = async (q: string, user = 'bob') => {
  const r = await w.rest(user, 'GET', `/v1/channels/${cid}/messages${q}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.messages as any[];
};
const texts = (ms: any[]) => ms.map((m) => m.text);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => `m${a + i}`);

describe('history', () => {
  it('the fixture has seq holes (reactions), so paging cannot assume consecutive seqs', () => {
    expect(msgs.at(-1).seq).toBeGreaterThan(40);
  });

  it('no cursor: the latest N, ascending; default limit 50', async () => {
    expect(texts(await page('?limit=10'))).toEqual(range(31, 40));
    const all = await page('');
    expect(texts(all)).toEqual(range(1, 40));
    const seqs = all.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('before=SEQ: the N just before; after=SEQ: the N just after', async () => {
    expect(texts(await page(`?before=${msgs[10].seq}&limit=5`))).toEqual(range(6, 10));
    expect(texts(await page(`?before=${msgs[2].seq}&limit=5`))).toEqual(range(1, 2));
    expect(texts(await page(`?after=${msgs[24].seq}&limit=10`))).toEqual(range(26, 35));
    expect(texts(await page(`?after=${msgs[36].seq}&limit=10`))).toEqual(range(38, 40));
    expect(await page(`?after=${msgs[39].seq}`)).toEqual([]);
    expect(await page('?before=1')).toEqual([]);
    // A seq that belongs to a reaction, not a message, is a fine cursor too.
    const reactionSeq = msgs[3].seq + 1;
    expect(texts(await page(`?after=${reactionSeq}&limit=2`))).toEqual(range(5, 6));
    expect(texts(await page(`?before=${reactionSeq}&limit=2`))).toEqual(range(3, 4));
  });

  it('around=<message id>: that message in the middle of its neighbours', async () => {
    expect(texts(await page(`?around=${msgs[14].id}&limit=5`))).toEqual(range(13, 17));
    expect(texts(await page(`?around=${msgs[0].id}&limit=5`))).toEqual(range(1, 3));
    expect(texts(await page(`?around=${msgs[39].id}&limit=4`))).toEqual(range(39, 40));
    expect(texts(await page(`?around=${msgs[20].id}&limit=1`))).toEqual(['m21']);
    expectError(await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?around=${newId()}`), 404, 'NOT_FOUND');
    const other = await w.channel('alice', 'group', 'hist-other', ['bob']);
    const x = await w.send('alice', other, 'elsewhere');
    expectError(await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?around=${x.id}`), 404, 'NOT_FOUND');
  });

  it('around=<seq>: the message at that seq, or the last one before it, in the middle', async () => {
    expect(texts(await page(`?around=${msgs[14].seq}&limit=5`))).toEqual(range(13, 17));
    // msgs[3]'s reaction took the seq after it: around that seq is around msgs[3].
    expect(texts(await page(`?around=${msgs[3].seq + 1}&limit=3`))).toEqual(range(3, 5));
    expect(texts(await page(`?around=999999&limit=3`))).toEqual(range(39, 40));
    expectError(await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?around=0`), 404, 'NOT_FOUND');
    for (const bad of ['1.5', '-3', '1e3', '0x10', '9999999999999999'])
      expectError(await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?around=${bad}`), 400, 'VALIDATION_ERROR');
  });

  it('limit bounds and bad cursors are 400; at most one cursor', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=-1', 'limit=abc', 'before=-1', 'after=x', 'around=nope', 'foo=1'])
      expectError(await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?${q}`), 400, 'VALIDATION_ERROR');
    expectError(await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?before=10&after=2`), 400, 'VALIDATION_ERROR');
    expectError(
      await w.rest('bob', 'GET', `/v1/channels/${cid}/messages?after=2&around=${msgs[5].id}`),
      400,
      'VALIDATION_ERROR',
    );
    expect(await page('?limit=200')).toHaveLength(40);
    expect(await page('?limit=1')).toHaveLength(1);
  });

  it('paging back with before from the newest reaches the first message with no gaps or repeats', async () => {
    for (const limit of [1, 7, 13, 40]) {
      const seen: any[] = [];
      let q = `?limit=${limit}`;
      for (let guard = 0; guard < 100; guard++) {
        const p = await page(q);
        if (p.length === 0) break;
        expect(p.length).toBeLessThanOrEqual(limit);
        seen.unshift(...p);
        q = `?limit=${limit}&before=${p[0].seq}`;
      }
      expect(texts(seen)).toEqual(range(1, 40));
      expect(new Set(seen.map((m) => m.id)).size).toBe(40);
    }
    // And forward with after, from the start.
    const fwd: any[] = [];
    let after = 0;
    for (;;) {
      const p = await page(`?limit=9&after=${after}`);
      if (p.length === 0) break;
      fwd.push(...p);
      after = p.at(-1).seq;
    }
    expect(texts(fwd)).toEqual(range(1, 40));
  });

  it('a non-member reads a public channel but not a group', async () => {
    expectError(await w.rest('dave', 'GET', `/v1/channels/${cid}/messages`), 404, 'NOT_FOUND');
    const pub = await w.channel('alice', 'public', 'hist-pub', ['bob']);
    await w.send('alice', pub, 'hello world');
    const r = await w.rest('dave', 'GET', `/v1/channels/${pub}/messages`);
    expect(r.status).toBe(200);
    expect(texts(r.body.messages)).toEqual(['hello world']);
  });
});

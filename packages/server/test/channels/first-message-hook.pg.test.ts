/**
 * A group's first message goes through the app's before-send hook as any send does, before the
 * group exists: a rejection creates no group (automod and an app-wide ban are in
 * first-message.pg.test.ts); a change is what the group's first message says. Mentions resolve
 * against the new members (someone outside the group is not mentioned) and count in each
 * member's unread totals.
 */
import { uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type Harness, startHarness } from '../harness.js';
import { type Receiver, startReceiver } from '../hooks/helpers.js';
import { cids, expectError, ok, world } from './helpers.js';

let h: Harness;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  rcv.answer = (r) => {
    const text = r.json?.message?.text as string;
    if (text.startsWith('reject'))
      return { status: 200, body: JSON.stringify({ action: 'reject', reason: 'not here' }) };
    if (text.startsWith('change')) return { status: 200, body: JSON.stringify({ action: 'change', text: 'Changed!' }) };
    return { status: 200, body: JSON.stringify({ action: 'allow' }) };
  };
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_BEFORE_SEND: rcv.host }) });
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

const group = (members: string[], text: string, id = uuidv7()) => ({
  type: 'group',
  name: 'Hooked',
  members,
  first_message: { id, text },
});

describe("a group's first message and the before-send hook", () => {
  it('a rejected first message creates no group; a changed one is stored changed', async () => {
    const w = await world(h);
    ok(
      await h.call({
        method: 'PUT',
        url: '/v1/hooks/before-send',
        headers: await w.app.server(),
        payload: { url: `${rcv.url}/before-send`, timeout_ms: 2000, fail_open: false },
      }),
    );
    const r = await w.alice.create(group(['bob'], 'reject this'));
    expectError(r, 'MESSAGE_REJECTED');
    expect(cids(await w.bob.query({}))).toEqual([]);
    // The hook was asked about the group that would have been made.
    const asked = rcv.on('/before-send').at(-1)?.json;
    expect(asked).toMatchObject({ message: { text: 'reject this' } });
    expect(asked.cid).toMatch(/^group:/);

    const body = ok(await w.alice.create(group(['bob'], 'change me')));
    expect(body.message.text).toBe('Changed!');
    expect(ok(await w.bob.history(body.channel.cid)).messages.map((m: any) => m.text)).toEqual(['Changed!']);
  });

  it('mentions resolve against the new members only', async () => {
    const w = await world(h);
    const body = ok(await w.alice.create(group(['bob'], 'hi @bob and @carol')));
    expect(body.message.mentioned_users).toEqual(['bob']);
    expect(ok(await w.bob.me()).unread).toMatchObject({ total: 1, mentions: 1, channels: 1 });
    // Carol is not in the group: named, she is not mentioned, and has nothing to read.
    const me = ok(await w.carol.me());
    expect(me.unread).toMatchObject({ total: 0, mentions: 0 });
  });
});

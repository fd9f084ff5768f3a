/**
 * No frame gives an INTERNAL reply: every request type in the protocol's `CLIENT_REQUESTS` (so a
 * new one is fuzzed without anyone listing it) gets generated frames built from its own schema,
 * with hostile strings and numbers (`since: 1e20`, `seq: 2^63`, `req_id: -1`, NUL, lone
 * surrogates, BOMs, naughty strings) mixed in, and now and then a frame that is not JSON at all.
 * Each must be answered with `ok: true` or a typed error from the catalogue, with the `req_id`
 * it carried (null when it had no usable one); the socket stays open; sent text comes back
 * unchanged. Fixed seed, bounded runs, on both backends.
 */
import { AuthFrame, CLIENT_REQUESTS, ERRORS } from '@parley/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import { FUZZ_RUNS, FUZZ_SEED, mutated, sometimes, toJson } from './arbitraries.js';
import { makeTargets, makeWorld, type World } from './fixture.js';

let h: Harness;
let w: World;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h);
  url = await h.listen();
});
afterAll(async () => {
  await h?.close();
});

/** Raw frames that are not requests at all. */
const NOT_REQUESTS = [
  '',
  'not json',
  '{',
  '[]',
  'null',
  '1e400',
  '"\\ud800"',
  '{"type":null}',
  '{"type":"auth","token":"x"}',
];

/** What a reply to `frame` must carry as `req_id`: its own when it is an integer, else null. */
function expectedReqId(frame: unknown): number | null {
  const id = (frame as { req_id?: unknown } | null)?.req_id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

describe('hostile input over the WebSocket', () => {
  it('a frame that is JSON null is a VALIDATION_ERROR, not a throw outside any reply (which ended the process)', async () => {
    const s = await TestSocket.connect(url, w.app, 'alice');
    for (const raw of ['null', '1', '"x"', 'true', '[]']) {
      s.frames.length = 0;
      s.sendRaw(raw);
      const reply = await s.waitFor((f) => f.type === 'reply');
      expect(reply, raw).toMatchObject({ req_id: null, ok: false, error: { code: 'VALIDATION_ERROR' } });
    }
    expect((await s.request('ping')).ok).toBe(true);
    s.close();
  });

  it('any first frame gets hello (a good token) or a 4001 close, never another close', {
    timeout: 120_000,
  }, async () => {
    const good = await w.app.token('alice');
    const firsts = fc.oneof(
      mutated(AuthFrame as never, { token: [good] }).map(toJson),
      fc.constantFrom(...NOT_REQUESTS),
    );
    await fc.assert(
      fc.asyncProperty(firsts, async (first) => {
        const s = await TestSocket.open(url, w.app.apiKey);
        s.sendRaw(first);
        const hello = s
          .waitFor((f) => f.type === 'hello')
          .then(
            () => null,
            () => null,
          );
        const closed = await Promise.race([s.waitClose(), hello.then(() => null)]);
        if (closed) expect([4001], `${first.slice(0, 200)} → ${JSON.stringify(closed)}`).toContain(closed.code);
        else
          expect(
            s.frames.some((f) => f.type === 'hello'),
            first.slice(0, 200),
          ).toBe(true);
        s.close();
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS ?? 40, endOnFailure: true },
    );
  });

  it('every request type answers every frame with ok or a typed error, and the socket stays open', {
    timeout: 300_000,
  }, async () => {
    const s = await TestSocket.connect(url, w.app, 'alice');
    const failures = new Map<string, string>();
    let nextId = 1;
    let sent = 0;
    for (const [type, schema] of Object.entries(CLIENT_REQUESTS)) {
      const t = await makeTargets(h, w);
      const answers = new Map<string, number>();
      const fixtures = {
        cid: t.cids,
        message_id: [t.messageId],
        parent_id: [t.messageId],
        quoted_message_id: [t.messageId],
        seq: [0, 1, 2],
        since: [0, 1, 2],
        show_in_channel: [false],
        id: [t.messageId],
      };
      const frames = fc.oneof(
        { weight: 3, arbitrary: mutated(schema as never, fixtures, ['type']).map((f) => ({ raw: null, frame: f })) },
        { weight: 1, arbitrary: sometimes(fc.constantFrom(...NOT_REQUESTS), 2).map((r) => ({ raw: r, frame: null })) },
      );
      await fc.assert(
        fc.asyncProperty(frames, async ({ raw, frame }) => {
          sent++;
          let text: string;
          let want: number | null = null;
          if (raw !== null) text = raw;
          else {
            // A usable req_id is made unique, so the reply can be told from earlier ones.
            if (
              frame &&
              typeof frame === 'object' &&
              expectedReqId(frame) !== null &&
              (frame as { req_id: number }).req_id >= 0
            )
              (frame as { req_id: number }).req_id = nextId++;
            text = toJson(frame);
            // As the server reads it: a RawNumber such as 9007199254740991 is a usable req_id.
            want = expectedReqId(JSON.parse(text));
          }
          s.frames.length = 0;
          s.sendRaw(text);
          const reply = await s.waitFor((f) => f.type === 'reply' && f.req_id === want);
          const seen = reply.ok ? 'ok' : String(reply.error?.code);
          answers.set(seen, (answers.get(seen) ?? 0) + 1);
          const key = (what: string) => `${type}: ${what}`;
          if (!reply.ok) {
            const code = reply.error?.code;
            if (!(code in ERRORS) || code === 'INTERNAL' || ERRORS[code as keyof typeof ERRORS].status >= 500) {
              if (!failures.has(key(String(code))))
                failures.set(key(String(code)), `${text.slice(0, 300)} → ${JSON.stringify(reply).slice(0, 300)}`);
            }
          } else if (
            (type === 'message.send' || type === 'message.update') &&
            // A send that reuses the id of a stored message is a retry: it answers the stored one.
            !(type === 'message.send' && (frame as { message?: { id?: unknown } }).message?.id === t.messageId)
          ) {
            const sentText = (frame as { message?: { text?: unknown } }).message?.text;
            if (reply.message?.text !== sentText && !failures.has(key('text changed')))
              failures.set(key('text changed'), `${text.slice(0, 300)} → ${JSON.stringify(reply.message?.text)}`);
          }
          if (s.closed) throw new Error(`socket closed ${JSON.stringify(s.closed)} after ${text.slice(0, 200)}`);
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS ?? 40, endOnFailure: true },
      );
      if (process.env.PARLEY_FUZZ_VERBOSE)
        console.log(`${type}: ${[...answers].map(([k, v]) => `${k}×${v}`).join(' ')}`);
    }
    // Still answering.
    expect((await s.request('ping')).ok).toBe(true);
    s.close();
    const report = [...failures].map(([k, v]) => `${k}\n    ${v}`);
    expect(report, `${failures.size} distinct failures in ${sent} frames:\n${report.join('\n')}`).toEqual([]);
  });
});

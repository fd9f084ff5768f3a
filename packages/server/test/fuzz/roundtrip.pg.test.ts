/**
 * Never a changed text on read-back: every text field a client can write takes any text the
 * schema accepts — full Unicode, emoji sequences, a leading BOM, RTL marks, control
 * characters, the Big List of Naughty Strings — and reads it back byte for byte, on PGlite as
 * on PostgreSQL. (Account and workspace names, and a name set with `PATCH /v1/me`, are
 * documented to be stored trimmed.)
 */
import { isNameText, isSafeText } from '@parley/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Harness, startHarness, TestSocket } from '../harness.js';
import { FUZZ_RUNS, FUZZ_SEED, NAUGHTY, SPECIAL_STRINGS } from './arbitraries.js';
import { makeWorld, ORIGIN, type World } from './fixture.js';

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

/** Text the schema accepts for a field: safe (or a name: also not blank), within `max`. */
function text(max: number, name = false): fc.Arbitrary<string> {
  const ok = (s: string) => s.length <= max && (name ? isNameText(s) : isSafeText(s) && s.length > 0);
  const pool = [...SPECIAL_STRINGS, ...NAUGHTY].filter(ok);
  return fc
    .oneof(
      fc.constantFrom(...pool),
      fc.string({ unit: 'binary', minLength: 1, maxLength: Math.min(max, 30) }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 30) }),
      fc.string({ unit: 'binary', maxLength: 10 }).map((s) => `\ufeff${s}x`),
    )
    .filter(ok);
}

let n = 0;

describe('text round trip', () => {
  it('every text field reads back exactly what was written', { timeout: 300_000 }, async () => {
    const ok = async (r: Promise<{ status: number; body: any }>, what: string) => {
      const got = await r;
      expect(got.status, `${what}: ${JSON.stringify(got.body)}`).toBe(200);
      return got.body;
    };
    const alice = w.alice;
    const cookie = { cookie: w.cookie, origin: ORIGIN, 'content-type': 'application/json' };
    const socket = await TestSocket.connect(url, w.app, 'alice');
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          message: text(10_000, true),
          edit: text(10_000, true),
          wsMessage: text(10_000, true),
          channelName: text(200, true),
          description: text(2000),
          topic: text(500),
          image: text(2048),
          userName: text(200, true),
          status: text(200),
          emoji: text(64),
          appName: text(200, true),
          workspaceName: text(100, true),
        }),
        async (t) => {
          const id = `rt${n++}`;
          const made = await ok(
            h.call({
              method: 'POST',
              url: '/v1/channels',
              headers: alice,
              payload: {
                type: 'group',
                id,
                name: t.channelName,
                description: t.description,
                topic: t.topic,
                image: t.image,
                members: ['bob'],
              },
            }),
            'create channel',
          );
          const cid = made.channel.cid;
          const channel = (
            await ok(h.call({ method: 'GET', url: `/v1/channels/${cid}`, headers: alice }), 'get channel')
          ).channel;
          expect(channel).toMatchObject({
            name: t.channelName,
            description: t.description,
            topic: t.topic,
            image: t.image,
          });
          await ok(
            h.call({
              method: 'PATCH',
              url: `/v1/channels/${cid}`,
              headers: alice,
              payload: { topic: t.description.slice(0, 500) },
            }),
            'patch',
          );
          const patched = (await ok(h.call({ method: 'GET', url: `/v1/channels/${cid}`, headers: alice }), 'get'))
            .channel;
          expect(patched.topic).toBe(t.description.slice(0, 500));

          const sent = await ok(
            h.call({
              method: 'POST',
              url: `/v1/channels/${cid}/messages`,
              headers: alice,
              payload: { text: t.message },
            }),
            'send',
          );
          const mid = sent.message.id;
          expect(sent.message.text).toBe(t.message);
          expect(
            (await ok(h.call({ method: 'GET', url: `/v1/messages/${mid}`, headers: alice }), 'get message')).message
              .text,
          ).toBe(t.message);
          await ok(
            h.call({ method: 'PATCH', url: `/v1/messages/${mid}`, headers: alice, payload: { text: t.edit } }),
            'edit',
          );
          const history = await ok(
            h.call({ method: 'GET', url: `/v1/channels/${cid}/messages?limit=5`, headers: alice }),
            'history',
          );
          expect(history.messages.find((m: { id: string }) => m.id === mid).text).toBe(t.edit);
          const versions = await ok(
            h.call({ method: 'GET', url: `/v1/messages/${mid}/versions`, headers: alice }),
            'versions',
          );
          expect(versions.versions.map((v: { text: string }) => v.text)).toContain(t.message);

          const ws = await socket.request('message.send', { cid, message: { text: t.wsMessage } });
          expect(ws.ok, JSON.stringify(ws)).toBe(true);
          expect(
            (await ok(h.call({ method: 'GET', url: `/v1/messages/${ws.message.id}`, headers: alice }), 'ws get'))
              .message.text,
          ).toBe(t.wsMessage);

          await ok(
            h.call({
              method: 'POST',
              url: '/v1/users',
              headers: w.server,
              payload: { users: [{ id: 'carol', name: t.userName, image: t.image }] },
            }),
            'upsert',
          );
          expect(
            (await ok(h.call({ method: 'GET', url: '/v1/users/carol', headers: alice }), 'user')).user,
          ).toMatchObject({ name: t.userName, image: t.image });
          await ok(h.call({ method: 'PATCH', url: '/v1/me', headers: alice, payload: { name: t.userName } }), 'me');
          await ok(
            h.call({
              method: 'POST',
              url: '/v1/me/status',
              headers: alice,
              payload: { text: t.status, emoji: t.emoji },
            }),
            'status',
          );
          const me = (await ok(h.call({ method: 'GET', url: '/v1/me', headers: alice }), 'get me')).user;
          expect(me.name).toBe(t.userName.trim());
          expect(me.status).toMatchObject({ text: t.status, emoji: t.emoji });

          const app = await ok(
            h.call({
              method: 'POST',
              url: '/v1/admin/apps',
              headers: { authorization: `Bearer ${ADMIN}` },
              payload: { name: t.appName },
            }),
            'app',
          );
          expect(app.name).toBe(t.appName);
          const apps = await ok(
            h.call({ method: 'GET', url: '/v1/admin/apps', headers: { authorization: `Bearer ${ADMIN}` } }),
            'apps',
          );
          expect(apps.apps.find((a: { id: string }) => a.id === app.id).name).toBe(t.appName);

          await ok(
            h.call({
              method: 'PATCH',
              url: `/v1/workspaces/${w.workspaceId}`,
              headers: cookie,
              payload: { name: t.workspaceName },
            }),
            'workspace',
          );
          const ws2 = await ok(
            h.call({ method: 'GET', url: `/v1/workspaces/${w.workspaceId}`, headers: cookie }),
            'get workspace',
          );
          expect(ws2.workspace.name).toBe(t.workspaceName.trim());
        },
      ),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS ?? 25, endOnFailure: true },
    );
    socket.close();
  });
});

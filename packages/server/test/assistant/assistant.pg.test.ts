/**
 * The assistant end to end on both databases, against a fake OpenAI-compatible provider on
 * loopback (test/fake-openai.ts) that records every prompt:
 *
 * - off by default (ASSISTANT_OFF, nothing sent); the admin API for the backend and app admins
 *   only, audited, the key sealed and never answered, the outbound policy applied; tenancy;
 * - catch-up streamed from the read mark, citing messages by id, its prompt holding only what
 *   the asking user may read (no private channel of others, no shadowed or deleted message);
 *   a thread's; a provider that hangs, answers garbage or cuts its stream gives a typed error;
 * - smart replies; AI moderation (allow, flag into the queue, block, fail open and closed, audited);
 * - the usage meter, from the provider's `usage`.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type FakeProvider, type ProviderRequest, startFakeProvider } from '../fake-openai.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let fake: FakeProvider;
let app: TestApp;
let other: TestApp;
const KEY = 'sk-test-very-secret-key';

beforeAll(async () => {
  fake = await startFakeProvider();
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_ASSISTANT: fake.host }) });
  app = await h.createApp();
  other = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
    { id: 'carol', name: 'Carol' },
    { id: 'boss', name: 'Boss', role: 'admin' },
  ]);
  await h.users(other, [{ id: 'mallory', role: 'admin' }]);
}, 60_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.got.length = 0;
  fake.answer = () => ({ text: 'ok' });
});

const as = async (user: string) => app.user(user);
const put = async (headers: Record<string, string>, payload: object) =>
  h.call({ method: 'PUT', url: '/v1/assistant', headers, payload });
const send = async (user: string, cid: string, text: string, extra: object = {}) =>
  h.call({
    method: 'POST',
    url: `/v1/channels/${cid}/messages`,
    headers: await as(user),
    payload: { text, ...extra },
  });

/** A catch-up's events, read from its `text/event-stream` answer. */
async function catchUp(user: string, path: string, body: object = {}) {
  const r = await h.app.inject({ method: 'POST', url: path, headers: await as(user), payload: body });
  if (r.statusCode !== 200) return { status: r.statusCode, error: JSON.parse(r.body).error, events: [] as any[] };
  expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
  const events = r.body
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => JSON.parse(b.slice(6)));
  return { status: 200, error: null, events };
}

describe('off by default', () => {
  it('offers nothing, refuses with ASSISTANT_OFF, and calls no provider', async () => {
    const me = await h.call({ method: 'GET', url: '/v1/me/assistant', headers: await as('alice') });
    expect(me.body).toEqual({ catch_up: false, smart_replies: false, smart_replies_mode: 'off' });
    await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await as('alice'),
      payload: { type: 'group', id: 'off', members: ['bob'] },
    });
    const sent = await send('alice', 'group:off', 'hello');
    expect(sent.status).toBe(200);
    const c = await catchUp('bob', '/v1/channels/group:off/catch-up');
    expect(c.status).toBe(409);
    expect(c.error.code).toBe('ASSISTANT_OFF');
    const s = await h.call({
      method: 'POST',
      url: `/v1/messages/${sent.body.message.id}/suggestions`,
      headers: await as('bob'),
    });
    expect(s.status).toBe(409);
    expect(s.body.error.code).toBe('ASSISTANT_OFF');
    expect((await h.call({ method: 'GET', url: '/v1/assistant', headers: await app.server() })).body).toEqual({
      assistant: null,
    });
    expect(fake.got).toEqual([]);
  });
});

describe('the admin API', () => {
  it('is for the backend and app admins; audited; the key sealed and never answered', async () => {
    expect((await put(await as('alice'), { url: fake.url, model: 'm' })).status).toBe(403);
    expect((await put(await app.server(), { enabled: true })).body.error.code).toBe('VALIDATION_ERROR');
    const refused = await put(await app.server(), { url: 'http://127.0.0.1:1/v1', model: 'm' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'OUTBOUND_NOT_ALLOWED',
      details: { setting: 'PARLEY_OUTBOUND_ALLOW_ASSISTANT' },
    });
    // A URL the pattern lets through but no parser takes: a typed error, not a crash (found by the fuzzer).
    for (const url of ['http://:', 'http://', 'https://[zz]/v1']) {
      const bad = await put(await app.server(), { url, model: 'm' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    }
    const made = await put(await app.server(), { url: fake.url, model: 'llama-3.2-3b', key: KEY });
    expect(made.status).toBe(200);
    expect(made.body.assistant).toMatchObject({
      enabled: false,
      url: fake.url,
      model: 'llama-3.2-3b',
      has_key: true,
      catch_up: true,
      smart_replies: true,
      smart_replies_mode: 'on_request',
      moderation: false,
    });
    expect(JSON.stringify(made.body)).not.toContain(KEY);
    // Still off: nothing offered until enabled.
    expect((await h.call({ method: 'GET', url: '/v1/me/assistant', headers: await as('alice') })).body).toEqual({
      catch_up: false,
      smart_replies: false,
      smart_replies_mode: 'off',
    });
    const on = await put(await as('boss'), { enabled: true, timeout_ms: 5000 });
    expect(on.body.assistant).toMatchObject({ enabled: true, timeout_ms: 5000, has_key: true });
    expect((await h.call({ method: 'GET', url: '/v1/me/assistant', headers: await as('alice') })).body).toEqual({
      catch_up: true,
      smart_replies: true,
      smart_replies_mode: 'on_request',
    });
    const [stored] = await rows<{ key_sealed: string }>(
      h.database.db,
      sql`select key_sealed from assistant_settings where app_id = ${app.id}`,
    );
    expect(stored?.key_sealed).toMatch(/^v1\./);
    expect(stored?.key_sealed).not.toContain(KEY);
    const audit = await rows<{ action: string; actor_kind: string; details: any }>(
      h.database.db,
      sql`select action, actor_kind, details from audit_log where app_id = ${app.id} and action like 'assistant.%' order by id`,
    );
    expect(audit.map((a) => [a.action, a.actor_kind])).toEqual([
      ['assistant.updated', 'server'],
      ['assistant.updated', 'user'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(KEY);
    // Another app sees none of it, and its admin cannot change it.
    const theirs = await h.call({ method: 'GET', url: '/v1/assistant', headers: await other.user('mallory') });
    expect(theirs.body).toEqual({ assistant: null });
  });
});

describe('catch-up', () => {
  let readUpTo = 0;
  let ids: string[] = [];
  beforeAll(async () => {
    const alice = await as('alice');
    for (const [type, id, members] of [
      ['group', 'team', ['bob', 'carol']],
      ['group', 'secret', ['carol']],
    ] as const)
      await h.call({ method: 'POST', url: '/v1/channels', headers: alice, payload: { type, id, members } });
    const before = await send('alice', 'group:team', 'old news that bob has read');
    readUpTo = before.body.message.seq;
    await h.call({
      method: 'POST',
      url: '/v1/channels/group:team/read',
      headers: await as('bob'),
      payload: { seq: readUpTo },
    });
    ids = [];
    ids.push((await send('alice', 'group:team', 'The release moves to Friday')).body.message.id);
    ids.push((await send('carol', 'group:team', 'Bob, can you review the changelog?')).body.message.id);
    const gone = await send('alice', 'group:team', 'DELETED-TEXT a typo');
    await h.call({ method: 'DELETE', url: `/v1/messages/${gone.body.message.id}`, headers: alice });
    await send('alice', 'group:secret', 'SECRET-TEXT only for carol');
    // Carol is shadow-banned: her new messages are hers (and moderators') alone.
    const ban = await h.call({
      method: 'POST',
      url: '/v1/moderation/bans',
      headers: await app.server(),
      payload: { user_id: 'carol', shadow: true },
    });
    expect(ban.status).toBe(200);
    await send('carol', 'group:team', 'SHADOW-TEXT buy cheap watches');
    ids.push((await send('alice', 'group:team', 'Thanks all')).body.message.id);
  });

  it('streams a summary of what the reader has not read, citing messages by id; the prompt holds only what they may see', async () => {
    fake.answer = () => ({
      text: '- The release moves to Friday [1].\n- Carol asks Bob to review the changelog [2][9].',
      usage: { prompt_tokens: 321, completion_tokens: 45 },
    });
    const c = await catchUp('bob', '/v1/channels/group:team/catch-up');
    expect(c.status).toBe(200);
    const [start, ...rest] = c.events;
    expect(start).toMatchObject({ type: 'start', messages: 3 });
    const deltas = rest.filter((e) => e.type === 'delta');
    expect(deltas.length).toBeGreaterThan(1);
    const done = rest[rest.length - 1];
    expect(done.type).toBe('done');
    expect(deltas.map((d) => d.text).join('')).toBe(done.summary);
    // [9] names no message of the prompt: left out.
    expect(done.citations).toEqual([
      { n: 1, message_id: ids[0], seq: expect.any(Number) },
      { n: 2, message_id: ids[1], seq: expect.any(Number) },
    ]);
    expect(done.usage).toEqual({ prompt_tokens: 321, completion_tokens: 45 });
    expect(fake.got).toHaveLength(1);
    const req = fake.got[0] as ProviderRequest;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.stream).toBe(true);
    expect(req.body.model).toBe('llama-3.2-3b');
    expect(req.body.stream_options).toEqual({ include_usage: true });
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.prompt).toContain('The reader is Bob.');
    expect(req.prompt).toContain('[1] Alice');
    expect(req.prompt).toContain('The release moves to Friday');
    expect(req.prompt).toContain('[3] Alice');
    for (const hidden of ['old news', 'DELETED-TEXT', 'SECRET-TEXT', 'SHADOW-TEXT'])
      expect(req.prompt).not.toContain(hidden);
  });

  it("shows a shadow-banned author their own messages, and a range's messages when asked", async () => {
    fake.answer = () => ({ text: 'Summary [1]' });
    const c = await catchUp('carol', '/v1/channels/group:team/catch-up', { after_seq: readUpTo });
    expect(c.events[0]).toMatchObject({ type: 'start', messages: 4 });
    expect(fake.got[0]?.prompt).toContain('SHADOW-TEXT');
    expect(fake.got[0]?.prompt).not.toContain('DELETED-TEXT');
    fake.got.length = 0;
    const r = await catchUp('bob', '/v1/channels/group:team/catch-up', { after_seq: 0, before_seq: readUpTo + 1 });
    expect(r.events[0]).toMatchObject({ type: 'start', messages: 1 });
    expect(fake.got[0]?.prompt).toContain('old news');
  });

  it("leaves out the authors the reader muted, as the reader's history does", async () => {
    const muted = await h.call({
      method: 'POST',
      url: '/v1/moderation/mutes',
      headers: await as('alice'),
      payload: { user_id: 'carol' },
    });
    expect(muted.status).toBe(200);
    fake.answer = () => ({ text: 'Summary [1]' });
    await catchUp('alice', '/v1/channels/group:team/catch-up', { after_seq: readUpTo });
    expect(fake.got[0]?.prompt).toContain('The release moves to Friday');
    expect(fake.got[0]?.prompt).not.toContain('review the changelog');
    await h.call({ method: 'DELETE', url: '/v1/moderation/mutes/carol', headers: await as('alice') });
  });

  it('never reads a channel the caller may not: NOT_FOUND, nothing sent', async () => {
    const c = await catchUp('bob', '/v1/channels/group:secret/catch-up');
    expect(c.status).toBe(404);
    expect(c.error.code).toBe('NOT_FOUND');
    const theirs = await h.app.inject({
      method: 'POST',
      url: '/v1/channels/group:team/catch-up',
      headers: await other.user('mallory'),
      payload: {},
    });
    expect(theirs.statusCode).toBe(409); // their app has no assistant: nothing of this one is reachable
    expect(fake.got).toEqual([]);
  });

  it('says when there is nothing to catch up on, without calling the model', async () => {
    const c = await catchUp('alice', '/v1/channels/group:team/catch-up', { after_seq: 100_000 });
    expect(c.events).toEqual([
      { type: 'start', messages: 0, from_seq: null, to_seq: null },
      { type: 'done', summary: '', citations: [], usage: { prompt_tokens: 0, completion_tokens: 0 } },
    ]);
    expect(fake.got).toEqual([]);
  });

  it('catches up on a thread: its first message and the replies', async () => {
    const parent = await send('alice', 'group:team', 'THREAD-HEAD deploy plan?');
    const pid = parent.body.message.id;
    await send('bob', 'group:team', 'THREAD-REPLY tuesday works', { parent_id: pid });
    fake.answer = () => ({ text: 'Deploy on Tuesday [2].' });
    const c = await catchUp('alice', `/v1/messages/${pid}/catch-up`, { after_seq: 0 });
    const done = c.events[c.events.length - 1];
    expect(done.type).toBe('done');
    expect(done.citations.map((x: { n: number }) => x.n)).toEqual([2]);
    expect(fake.got[0]?.prompt).toContain('THREAD-HEAD');
    expect(fake.got[0]?.prompt).toContain('THREAD-REPLY');
    expect(fake.got[0]?.prompt).not.toContain('Thanks all');
  });

  it('ends with ASSISTANT_UNAVAILABLE when the provider errs, answers garbage, cuts its stream or hangs', async () => {
    for (const answer of [
      { status: 500, body: '{"error":"boom"}' },
      { garbage: 'data: {"not":"a chunk"}\n\n' },
      { garbage: '<html>proxy error</html>' },
      { cut: 'The release' },
    ] as const) {
      fake.answer = () => answer;
      const c = await catchUp('bob', '/v1/channels/group:team/catch-up');
      expect(c.status).toBe(200);
      const last = c.events[c.events.length - 1];
      expect(last).toMatchObject({ type: 'error', error: { code: 'ASSISTANT_UNAVAILABLE' } });
    }
    // An answer past the size cap (1 MiB) is cut, not read to the end.
    fake.answer = () => ({ garbage: `data: ${'x'.repeat(1_200_000)}\n\n` });
    const huge = await catchUp('bob', '/v1/channels/group:team/catch-up');
    expect(huge.events[huge.events.length - 1]).toMatchObject({
      type: 'error',
      error: { code: 'ASSISTANT_UNAVAILABLE', message: expect.stringContaining('larger than') },
    });
    await put(await app.server(), { timeout_ms: 1000 });
    fake.answer = () => 'hang';
    const c = await catchUp('bob', '/v1/channels/group:team/catch-up');
    expect(c.events[c.events.length - 1]).toEqual({
      type: 'error',
      error: { code: 'ASSISTANT_UNAVAILABLE', message: 'The model provider did not answer in time' },
    });
    await put(await app.server(), { timeout_ms: 5000 });
  });
});

describe('smart replies', () => {
  it('answers up to three cleaned replies; garbage is ASSISTANT_UNAVAILABLE', async () => {
    const m = await send('carol', 'group:team', 'Lunch at noon?');
    // Carol is shadow-banned: her message is not there for Bob, nor for suggestions.
    const hidden = await h.call({
      method: 'POST',
      url: `/v1/messages/${m.body.message.id}/suggestions`,
      headers: await as('bob'),
    });
    expect(hidden.status).toBe(404);
    const q = await send('alice', 'group:team', 'Lunch at noon?');
    fake.answer = () => ({
      text: 'Here you go: ["Sure!", "Sure!", "Can we do 1pm?", "  ", 42, "Count me in", "Too many"]',
    });
    const r = await h.call({
      method: 'POST',
      url: `/v1/messages/${q.body.message.id}/suggestions`,
      headers: await as('bob'),
    });
    expect(r.status).toBe(200);
    expect(r.body.suggestions).toEqual(['Sure!', 'Can we do 1pm?', 'Count me in']);
    const req = fake.got[fake.got.length - 1] as ProviderRequest;
    expect(req.stream).toBe(false);
    expect(req.prompt).toContain('Lunch at noon?');
    expect(req.prompt).not.toContain('SHADOW-TEXT');
    fake.answer = () => ({ text: 'I would say yes' });
    const bad = await h.call({
      method: 'POST',
      url: `/v1/messages/${q.body.message.id}/suggestions`,
      headers: await as('bob'),
    });
    expect(bad.status).toBe(503);
    expect(bad.body.error.code).toBe('ASSISTANT_UNAVAILABLE');
  });
});

describe('smart replies as a setting', () => {
  const me = async () => (await h.call({ method: 'GET', url: '/v1/me/assistant', headers: await as('bob') })).body;
  const suggest = async (id: string) =>
    h.call({ method: 'POST', url: `/v1/messages/${id}/suggestions`, headers: await as('bob') });

  it('off, on request or automatic: the server refuses when off, and every user reads the mode', async () => {
    const q = await send('alice', 'group:team', 'Coffee at three?');
    fake.answer = () => ({ text: '["Yes!"]' });

    const auto = await put(await app.server(), { smart_replies_mode: 'automatic' });
    expect(auto.status, JSON.stringify(auto.body)).toBe(200);
    expect(auto.body.assistant).toMatchObject({ smart_replies: true, smart_replies_mode: 'automatic' });
    expect(await me()).toMatchObject({ smart_replies: true, smart_replies_mode: 'automatic' });
    expect((await suggest(q.body.message.id)).body.suggestions).toEqual(['Yes!']);

    // Off: the mode says so, and the suggestions call is refused (typed), calling no provider.
    const off = await put(await as('boss'), { smart_replies_mode: 'off' });
    expect(off.body.assistant).toMatchObject({ smart_replies: false, smart_replies_mode: 'off' });
    expect(await me()).toMatchObject({ smart_replies: false, smart_replies_mode: 'off' });
    const calls = fake.got.length;
    const refused = await suggest(q.body.message.id);
    expect([refused.status, refused.body.error.code, refused.body.error.details.feature]).toEqual([
      409,
      'ASSISTANT_OFF',
      'smart_replies',
    ]);
    expect(fake.got.length).toBe(calls);

    // `smart_replies: true` alone turns them back on as they were (automatic); `false` is off.
    expect((await put(await app.server(), { smart_replies: true })).body.assistant.smart_replies_mode).toBe(
      'automatic',
    );
    expect((await put(await app.server(), { smart_replies_mode: 'on_request' })).body.assistant).toMatchObject({
      smart_replies: true,
      smart_replies_mode: 'on_request',
    });
    expect((await me()).smart_replies_mode).toBe('on_request');

    // Bad input: an unknown mode, or the two fields disagreeing — typed, nothing written.
    const unknown = await put(await app.server(), { smart_replies_mode: 'sometimes' });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const clash = await put(await app.server(), { smart_replies: false, smart_replies_mode: 'automatic' });
    expect([clash.status, clash.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    expect((await me()).smart_replies_mode).toBe('on_request');
    // Only admins change it.
    expect((await put(await as('bob'), { smart_replies_mode: 'off' })).status).toBe(403);
    // The audit log records the mode.
    const [last] = await rows<{ details: any }>(
      h.database.db,
      sql`select details from audit_log where app_id = ${app.id} and action = 'assistant.updated' order by id desc limit 1`,
    );
    expect(last?.details.features.smart_replies_mode).toBe('on_request');
  });
});

describe('a change reaches connected clients', () => {
  it('every connection of the app gets assistant.updated with what it offers now; another app gets nothing', async () => {
    const base = await h.listen();
    const bob = await TestSocket.connect(base, app, 'bob');
    const mallory = await TestSocket.connect(base, other, 'mallory');
    const heard = () => bob.frames.filter((f) => f.type === 'assistant.updated').map((f) => f.smart_replies_mode);
    try {
      expect((await put(await app.server(), { smart_replies_mode: 'automatic' })).status).toBe(200);
      const e = await bob.waitFor((f) => f.type === 'assistant.updated' && f.smart_replies_mode === 'automatic');
      const me = (await h.call({ method: 'GET', url: '/v1/me/assistant', headers: await as('bob') })).body;
      expect(e).toEqual({ type: 'assistant.updated', ...me, created_at: expect.any(String) });
      expect(me).toMatchObject({ smart_replies: true, smart_replies_mode: 'automatic' });

      // A refused change (not an admin, bad input) sends nothing; the next one is heard.
      expect((await put(await as('bob'), { smart_replies_mode: 'off' })).status).toBe(403);
      expect((await put(await app.server(), { smart_replies_mode: 'sometimes' })).status).toBe(400);
      await put(await app.server(), { smart_replies_mode: 'on_request' });
      await bob.waitFor((f) => f.type === 'assistant.updated' && f.smart_replies_mode === 'on_request');
      expect(heard()).toEqual(['automatic', 'on_request']);

      // The assistant turned off is `off` for everyone, whatever its smart-replies setting.
      await put(await app.server(), { enabled: false });
      const off = await bob.waitFor((f) => f.type === 'assistant.updated' && f.smart_replies_mode === 'off');
      expect(off).toMatchObject({ catch_up: false, smart_replies: false });
      await put(await app.server(), { enabled: true });
      await bob.waitFor((f) => f.type === 'assistant.updated' && heard().length === 4);
      expect(heard()).toEqual(['automatic', 'on_request', 'off', 'on_request']);

      // A frame to mallory's own app after all of app's shows none of them reached her.
      await h.call({ method: 'PUT', url: '/v1/feature-flags/marker', headers: await other.server(), payload: {} });
      await mallory.waitFor((f) => f.type === 'feature_flags.updated' && f.key === 'marker');
      expect(mallory.frames.some((f) => f.type === 'assistant.updated')).toBe(false);
    } finally {
      bob.ws.close();
      mallory.ws.close();
    }
  });
});

describe('AI moderation', () => {
  beforeAll(async () => {
    await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await as('alice'),
      payload: { type: 'group', id: 'mod', members: ['bob'] },
    });
  });

  it('is off until turned on: sends call no provider', async () => {
    expect((await send('alice', 'group:mod', 'plain')).status).toBe(200);
    expect(fake.got).toEqual([]);
  });

  it('allows, flags into the queue, blocks; the prompt is the message alone; audited', async () => {
    expect((await put(await app.server(), { moderation: true, moderation_timeout_ms: 1000 })).status).toBe(200);
    fake.answer = (r) => {
      const text = r.body.messages[1].content as string;
      if (text.startsWith('hang')) return 'hang';
      if (text.startsWith('garbage')) return { text: 'I cannot decide' };
      const action = text.startsWith('block') ? 'block' : text.startsWith('flag') ? 'flag' : 'allow';
      return { text: JSON.stringify({ action, reason: `${action} reason` }) };
    };
    expect((await send('alice', 'group:mod', 'hello there')).status).toBe(200);
    expect(fake.got[0]?.body.messages[1]).toEqual({ role: 'user', content: 'hello there' });
    expect(fake.got[0]?.prompt).not.toContain('Alice');
    const flagged = await send('alice', 'group:mod', 'flag me please');
    expect(flagged.status).toBe(200);
    const blocked = await send('alice', 'group:mod', 'block this one');
    expect(blocked.status).toBe(422);
    expect(blocked.body.error).toMatchObject({ code: 'MESSAGE_BLOCKED', details: { rule: 'ai' } });
    const queue = await h.call({ method: 'GET', url: '/v1/moderation/flags', headers: await app.server() });
    const flag = queue.body.flags.find((f: { message_id: string }) => f.message_id === flagged.body.message.id);
    expect(flag).toMatchObject({ reason: 'automod: ai (flag reason)', reported_by: null });
    const history = await h.call({
      method: 'GET',
      url: '/v1/channels/group:mod/messages',
      headers: await as('bob'),
    });
    expect(history.body.messages.map((m: { text: string }) => m.text)).not.toContain('block this one');
    const audit = await rows<{ action: string; target_id: string; details: any }>(
      h.database.db,
      sql`select action, target_id, details from audit_log where app_id = ${app.id}
          and action in ('assistant.message_flagged', 'assistant.message_blocked') order by id`,
    );
    expect(audit).toEqual([
      { action: 'assistant.message_flagged', target_id: 'alice', details: { cid: 'group:mod', reason: 'flag reason' } },
      {
        action: 'assistant.message_blocked',
        target_id: 'alice',
        details: { cid: 'group:mod', reason: 'block reason' },
      },
    ]);
  });

  it('fails open (sends as is) or closed (ASSISTANT_UNAVAILABLE, nothing stored) as the app chose', async () => {
    expect((await send('alice', 'group:mod', 'hang on open')).status).toBe(200);
    expect((await send('alice', 'group:mod', 'garbage on open')).status).toBe(200);
    await put(await app.server(), { moderation_fail_open: false });
    const closed = await send('alice', 'group:mod', 'hang on closed');
    expect(closed.status).toBe(503);
    expect(closed.body.error.code).toBe('ASSISTANT_UNAVAILABLE');
    const junk = await send('alice', 'group:mod', 'garbage on closed');
    expect(junk.body.error.code).toBe('ASSISTANT_UNAVAILABLE');
    const history = await h.call({ method: 'GET', url: '/v1/channels/group:mod/messages', headers: await as('bob') });
    const texts = history.body.messages.map((m: { text: string }) => m.text);
    expect(texts).toContain('hang on open');
    expect(texts).not.toContain('hang on closed');
    await put(await app.server(), { moderation: false });
    fake.got.length = 0;
    expect((await send('alice', 'group:mod', 'hang no more')).status).toBe(200);
    expect(fake.got).toEqual([]);
  });
});

describe('the usage meter', () => {
  it("counts requests and the provider's tokens per day and feature, for admins only", async () => {
    expect((await h.call({ method: 'GET', url: '/v1/assistant/usage', headers: await as('alice') })).status).toBe(403);
    const r = await h.call({ method: 'GET', url: '/v1/assistant/usage', headers: await as('boss') });
    expect(r.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const catchUp = r.body.usage.find((u: { feature: string }) => u.feature === 'catch_up');
    expect(catchUp).toMatchObject({ day: today });
    expect(catchUp.prompt_tokens).toBeGreaterThanOrEqual(321);
    expect(catchUp.completion_tokens).toBeGreaterThanOrEqual(45);
    expect(r.body.usage.map((u: { feature: string }) => u.feature).sort()).toEqual([
      'catch_up',
      'moderation',
      'smart_replies',
    ]);
    expect(r.body.total.requests).toBe(r.body.usage.reduce((n: number, u: { requests: number }) => n + u.requests, 0));
    const theirs = await h.call({ method: 'GET', url: '/v1/assistant/usage', headers: await other.user('mallory') });
    expect(theirs.body).toEqual({ usage: [], total: { requests: 0, prompt_tokens: 0, completion_tokens: 0 } });
  });

  it('removes the assistant (audited), which turns everything off again', async () => {
    const del = await h.call({ method: 'DELETE', url: '/v1/assistant', headers: await app.server() });
    expect(del.status).toBe(200);
    const c = await catchUp('bob', '/v1/channels/group:team/catch-up');
    expect(c.error.code).toBe('ASSISTANT_OFF');
  });
});

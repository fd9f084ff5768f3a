/**
 * Slash commands end to end on both databases: the registry (CRUD, bad input, other tenants),
 * the autocomplete list, app commands POSTed signed to a real HTTP app on loopback (ephemeral
 * answers only on the sender's connections, in_channel posted once, buttons posted back and
 * replacing the message, timeouts / 5xx / bad JSON as ephemeral errors, late answers on the
 * response URL), the built-ins, and /giphy through fake GIPHY and Tenor servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { type Received, type Receiver, startReceiver } from '../hooks/helpers.js';
import { type FakeGifProvider, startGifProvider } from './fakes.js';

let h: Harness;
let rcv: Receiver;
let giphy: FakeGifProvider;
let tenor: FakeGifProvider;
let app: TestApp;
let other: TestApp;
let base: string;
const CID = 'group:crew';
let secret = '';
let commandId = '';

const run = async (user: string, text: string, extra: Record<string, unknown> = {}) =>
  h.call({
    method: 'POST',
    url: `/v1/channels/${CID}/commands/run`,
    headers: await app.user(user),
    payload: { text, ...extra },
  });
const history = async () =>
  (await h.call({ method: 'GET', url: `/v1/channels/${CID}/messages`, headers: await app.user('bob') })).body
    .messages as { id: string; text: string; user_id: string; type: string; attachments: any[]; poll?: any }[];
/** The ids of the channel's messages: what was posted (a GIF's thumbnails, made by a job, may change the rest). */
const posted = async () => (await history()).map((m) => m.id);

beforeAll(async () => {
  rcv = await startReceiver();
  giphy = await startGifProvider('giphy', 'giphy-key');
  tenor = await startGifProvider('tenor', 'tenor-key');
  rcv.answer = (r) => answerFor(r);
  h = await startHarness({
    commandTimeoutMs: 1_500,
    outboundAllow: outboundAllowFromEnv({
      PARLEY_OUTBOUND_ALLOW_COMMANDS: [rcv.host, giphy.host, tenor.host].join(','),
    }),
  });
  base = await h.listen();
  app = await h.createApp();
  other = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }, { id: 'boss', role: 'admin' }, { id: 'eve' }]);
  const c = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'crew', members: ['bob', 'boss'] },
  });
  expect(c.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await giphy?.close();
  await tenor?.close();
  await h?.close();
});

/** The fake app: what it answers depends on the command's text (or the clicked button). */
function answerFor(r: Received): { status: number; body?: string } | 'hang' {
  const ok = (body: unknown) => ({ status: 200, body: JSON.stringify(body) });
  if (!verifySignature(secret, r.headers['x-parley-signature'] as string, r.body)) return { status: 401 };
  const j = r.json;
  if (j.type === 'action') {
    if (j.action.name === 'approve')
      return ok({ text: `Approved ${j.action.value}`, actions: [{ name: 'undo', text: 'Undo' }] });
    if (j.action.name === 'undo') return ok({ delete_original: true });
    return ok({});
  }
  switch (j.text) {
    case 'hang':
      return 'hang';
    case 'boom':
      return { status: 500, body: 'oops' };
    case 'garbage':
      return { status: 200, body: '<html>not json</html>' };
    case 'wrong-shape':
      return ok({ response_type: 'everywhere' });
    case 'public':
      return ok({ response_type: 'in_channel', text: 'Deploy started by the bot' });
    case 'public-as-me':
      return ok({ response_type: 'in_channel', as_user: true, text: 'I started a deploy' });
    case 'later':
      return { status: 200, body: '' };
    default:
      return ok({
        text: `Deploy ${j.text}?`,
        actions: [
          { name: 'approve', text: 'Approve', value: j.text, style: 'primary' },
          { name: 'cancel', text: 'Cancel' },
        ],
      });
  }
}

describe('the registry', () => {
  it('registers a command with its secret; bad input and duplicates are refused', async () => {
    const server = await app.server();
    const made = await h.call({
      method: 'POST',
      url: '/v1/commands',
      headers: server,
      payload: { name: 'deploy', description: 'Deploy a branch', usage: '[branch]', url: `${rcv.url}/cmd` },
    });
    expect(made.status).toBe(201);
    expect(made.body.secret).toMatch(/^cmdsec_/);
    expect(made.body.command).toMatchObject({ name: 'deploy', usage: '[branch]', builtin: false, roles: null });
    secret = made.body.secret;
    commandId = made.body.command.id;

    const bad = [
      { name: 'Deploy', description: 'x', url: `${rcv.url}/x` },
      { name: 'has space', description: 'x', url: `${rcv.url}/x` },
      { name: 'ok', description: '   ', url: `${rcv.url}/x` },
      { name: 'ok', description: 'x', url: 'ftp://example.com/x' },
      { name: 'ok', description: 'x', url: 'http://user:pw@example.com/x' },
      { name: 'ok', description: 'x', url: `${rcv.url}/x`, roles: ['Not A Role'] },
      { name: 'ok', description: 'x', url: `${rcv.url}/x`, extra: 1 },
      { name: 'giphy', description: 'mine', url: `${rcv.url}/x` },
    ];
    for (const payload of bad) {
      const r = await h.call({ method: 'POST', url: '/v1/commands', headers: server, payload });
      expect(r.status, JSON.stringify(payload)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_ERROR');
    }
    const dup = await h.call({
      method: 'POST',
      url: '/v1/commands',
      headers: server,
      payload: { name: 'deploy', description: 'again', url: `${rcv.url}/cmd` },
    });
    expect(dup.status).toBe(409);
    // A plain user manages nothing.
    const byUser = await h.call({
      method: 'POST',
      url: '/v1/commands',
      headers: await app.user('alice'),
      payload: { name: 'mine', description: 'x', url: `${rcv.url}/x` },
    });
    expect(byUser.status).toBe(403);
    const list = await h.call({ method: 'GET', url: '/v1/commands', headers: server });
    expect(list.body.commands.map((c: { name: string }) => c.name)).toEqual([
      'giphy',
      'me',
      'poll',
      'remind',
      'schedule',
      'shrug',
      'deploy',
    ]);
  });

  it('another app can neither see, change nor delete it', async () => {
    const theirs = await other.server();
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { description: 'stolen' }],
      ['DELETE', undefined],
    ] as const) {
      const r = await h.call({ method, url: `/v1/commands/${commandId}`, headers: theirs, payload });
      expect(r.status, method).toBe(404);
    }
    expect((await h.call({ method: 'GET', url: '/v1/commands', headers: theirs })).body.commands).toHaveLength(6);
    const mine = await h.call({ method: 'GET', url: `/v1/commands/${commandId}`, headers: await app.server() });
    expect(mine.body.command.description).toBe('Deploy a branch');
    // Another app's user cannot run it in (or list) this app's channel either.
    const r = await h.call({
      method: 'POST',
      url: `/v1/channels/${CID}/commands/run`,
      headers: await other.user('alice'),
      payload: { text: '/deploy main' },
    });
    expect(r.status).toBe(404);
    expect(rcv.on('/cmd')).toHaveLength(0);
  });

  it('updates, restricts by role, deletes, and audits each change', async () => {
    const server = await app.server();
    const made = await h.call({
      method: 'POST',
      url: '/v1/commands',
      headers: server,
      payload: { name: 'purge', description: 'Purge caches', url: `${rcv.url}/purge` },
    });
    const id = made.body.command.id;
    const up = await h.call({
      method: 'PATCH',
      url: `/v1/commands/${id}`,
      headers: server,
      payload: { roles: ['admin'], usage: '[cache]' },
    });
    expect(up.status).toBe(200);
    expect(up.body.command).toMatchObject({ roles: ['admin'], usage: '[cache]' });
    expect((await h.call({ method: 'PATCH', url: `/v1/commands/${id}`, headers: server, payload: {} })).status).toBe(
      400,
    );
    // alice (role user) neither sees nor runs it; boss (app admin) does.
    const names = async (u: string) =>
      (
        await h.call({ method: 'GET', url: `/v1/channels/${CID}/commands`, headers: await app.user(u) })
      ).body.commands.map((c: { name: string }) => c.name);
    expect(await names('alice')).not.toContain('purge');
    expect(await names('boss')).toContain('purge');
    expect(await names('alice')).toEqual(['deploy', 'giphy', 'me', 'poll', 'remind', 'schedule', 'shrug']);
    const refused = await run('alice', '/purge all');
    expect(refused.status).toBe(403);
    expect(rcv.on('/purge')).toHaveLength(0);
    // Not a member of the channel: no list.
    const eve = await h.call({ method: 'GET', url: `/v1/channels/${CID}/commands`, headers: await app.user('eve') });
    expect(eve.status).toBe(404);

    expect((await h.call({ method: 'DELETE', url: `/v1/commands/${id}`, headers: server })).status).toBe(200);
    expect((await h.call({ method: 'DELETE', url: `/v1/commands/${id}`, headers: server })).status).toBe(404);
    const audit = await h.call({ method: 'GET', url: '/v1/audit?action=command.', headers: server });
    expect(audit.status).toBe(200);
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['command.created', 'command.updated', 'command.deleted']));
  });
});

describe('running an app command', () => {
  it('answers ephemerally to every connection of the sender and no one else; a button posts back and replaces it', async () => {
    const a1 = await TestSocket.connect(base, app, 'alice');
    const a2 = await TestSocket.connect(base, app, 'alice');
    const b = await TestSocket.connect(base, app, 'bob');
    const before = await posted();
    const r = await run('alice', '/deploy main');
    expect(r.status).toBe(200);
    expect(r.body.result).toBe('ephemeral');
    const e = r.body.ephemeral;
    expect(e).toMatchObject({ cid: CID, command: 'deploy', text: 'Deploy main?', error: false });
    expect(e.actions.map((x: { name: string }) => x.name)).toEqual(['approve', 'cancel']);

    // What the app got: signed, with the command, args, user, channel and a response URL.
    const got = rcv.on('/cmd').at(-1) as Received;
    expect(verifySignature(secret, got.headers['x-parley-signature'] as string, got.body)).toBe(true);
    expect(got.json).toMatchObject({ type: 'command', command: '/deploy', text: 'main', user_id: 'alice', cid: CID });
    expect(got.json.response_url).toMatch(/\/v1\/commands\/responses\?token=[\w-]+\.[\w-]+$/);

    for (const s of [a1, a2]) await s.waitFor((f) => f.type === 'ephemeral.new' && f.ephemeral.id === e.id);
    // Bob's socket saw nothing of it, and the channel's history holds nothing new.
    await b.request('ping');
    expect(b.events('ephemeral.new')).toHaveLength(0);
    expect(await posted()).toEqual(before);

    // Bob cannot click alice's buttons.
    const stolen = await h.call({
      method: 'POST',
      url: `/v1/ephemerals/${e.id}/actions`,
      headers: await app.user('bob'),
      payload: { name: 'approve' },
    });
    expect(stolen.status).toBe(404);
    const noSuch = await h.call({
      method: 'POST',
      url: `/v1/ephemerals/${e.id}/actions`,
      headers: await app.user('alice'),
      payload: { name: 'launch' },
    });
    expect(noSuch.status).toBe(400);

    const click = await h.call({
      method: 'POST',
      url: `/v1/ephemerals/${e.id}/actions`,
      headers: await app.user('alice'),
      payload: { name: 'approve' },
    });
    expect(click.status).toBe(200);
    expect(click.body.ephemeral).toMatchObject({ id: e.id, text: 'Approved main' });
    const action = rcv.on('/cmd').at(-1) as Received;
    expect(verifySignature(secret, action.headers['x-parley-signature'] as string, action.body)).toBe(true);
    expect(action.json).toMatchObject({
      type: 'action',
      action: { name: 'approve', value: 'main' },
      ephemeral_id: e.id,
    });
    for (const s of [a1, a2])
      await s.waitFor(
        (f) => f.type === 'ephemeral.new' && f.ephemeral.id === e.id && f.ephemeral.text === 'Approved main',
      );
    // The app removes it on the next click: gone from both of alice's connections.
    const undo = await h.call({
      method: 'POST',
      url: `/v1/ephemerals/${e.id}/actions`,
      headers: await app.user('alice'),
      payload: { name: 'undo' },
    });
    expect(undo.body.ephemeral).toBeNull();
    for (const s of [a1, a2]) await s.waitFor((f) => f.type === 'ephemeral.deleted' && f.id === e.id);
    await b.request('ping');
    expect(b.events('ephemeral.deleted')).toHaveLength(0);
    for (const s of [a1, a2, b]) s.close();
  });

  it('posts an in_channel answer once, as the bot or as the user', async () => {
    const b = await TestSocket.connect(base, app, 'bob');
    const before = (await history()).length;
    const bot = await run('alice', '/deploy public');
    expect(bot.body.result).toBe('message');
    expect(bot.body.message).toMatchObject({ text: 'Deploy started by the bot', type: 'system' });
    const mine = await run('alice', '/deploy public-as-me');
    expect(mine.body.message, JSON.stringify(mine.body)).toMatchObject({
      text: 'I started a deploy',
      user_id: 'alice',
      type: 'regular',
    });
    await b.waitFor((f) => f.type === 'message.new' && f.message.id === mine.body.message.id);
    const after = await history();
    expect(after.length).toBe(before + 2);
    expect(after.filter((m) => m.text === 'I started a deploy')).toHaveLength(1);
    b.close();
  });

  it('turns a timeout, a 5xx, bad JSON or a wrong shape into an ephemeral error and posts nothing', async () => {
    const before = await posted();
    for (const [arg, why] of [
      ['hang', 'did not answer in time'],
      ['boom', 'HTTP 500'],
      ['garbage', 'not JSON'],
      ['wrong-shape', 'not a command answer'],
    ] as const) {
      const r = await run('alice', `/deploy ${arg}`);
      expect(r.status, arg).toBe(200);
      expect(r.body.result, JSON.stringify(r.body)).toBe('ephemeral');
      expect(r.body.ephemeral.error).toBe(true);
      expect(r.body.ephemeral.text, JSON.stringify(r.body)).toContain(why);
      expect(r.body.ephemeral.text).toContain('Nothing was posted');
    }
    expect(await posted()).toEqual(before);
  });

  it('takes a later answer on the response URL, and refuses a forged or bad one', async () => {
    const r = await run('alice', '/deploy later');
    expect(r.body.result).toBe('none');
    const url = new URL((rcv.on('/cmd').at(-1) as Received).json.response_url);
    const late = await h.call({
      method: 'POST',
      url: `${url.pathname}${url.search}`,
      payload: { response_type: 'in_channel', as_user: true, text: 'Deployed, finally' },
    });
    expect(late.status, JSON.stringify(late.body)).toBe(200);
    expect(late.body.message).toMatchObject({ user_id: 'alice', text: 'Deployed, finally' });
    const [claims, mac] = (url.searchParams.get('token') as string).split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), u: 'bob' }),
    ).toString('base64url');
    const f = await h.call({
      method: 'POST',
      url: `/v1/commands/responses?token=${forged}.${mac}`,
      payload: { text: 'x' },
    });
    expect(f.status).toBe(401);
    const bad = await h.call({
      method: 'POST',
      url: `${url.pathname}${url.search}`,
      payload: { response_type: 'loud' },
    });
    expect(bad.status).toBe(400);
  });

  it('refuses an unknown command with UNKNOWN_COMMAND and posts nothing', async () => {
    const before = await posted();
    const r = await run('alice', '/frobnicate now');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ code: 'UNKNOWN_COMMAND', details: { name: 'frobnicate' } });
    for (const text of ['no slash', '//double', '/', '']) {
      const bad = await run('alice', text);
      expect(bad.status, text).toBe(400);
    }
    expect(await posted()).toEqual(before);
  });

  it('runs over the socket too', async () => {
    const a = await TestSocket.connect(base, app, 'alice');
    const reply = await a.request('command.run', { cid: CID, text: '/deploy sock' });
    expect(reply.ok).toBe(true);
    expect(reply.ephemeral.text).toBe('Deploy sock?');
    const unknown = await a.request('command.run', { cid: CID, text: '/nope' });
    expect(unknown.ok).toBe(false);
    expect(unknown.error.code).toBe('UNKNOWN_COMMAND');
    a.close();
  });
});

describe('built-in commands', () => {
  it('/remind and /schedule are parsed on the server', async () => {
    const r = await run('alice', '/remind 20m stretch');
    expect(r.body.result).toBe('ephemeral');
    expect(r.body.ephemeral.text).toMatch(/^Reminder set for /);
    const reminders = await h.call({ method: 'GET', url: '/v1/reminders', headers: await app.user('alice') });
    expect(reminders.body.reminders.map((x: { note: string }) => x.note)).toContain('stretch');
    const s = await run('alice', '/schedule 1h See you at the standup');
    expect(s.body.ephemeral.text).toMatch(/^Message scheduled for /);
    const list = await h.call({ method: 'GET', url: '/v1/scheduled-messages', headers: await app.user('alice') });
    expect(list.body.scheduled_messages.map((x: { text: string }) => x.text)).toContain('See you at the standup');
    for (const bad of ['/remind stretch', '/remind 20x stretch', '/schedule tomorrow']) {
      const u = await run('alice', bad);
      expect(u.body.ephemeral, bad).toMatchObject({ error: true });
      expect(u.body.ephemeral.text).toMatch(/^Usage: /);
    }
  });

  it('/poll posts a poll; /me and /shrug post text', async () => {
    const p = await run('alice', '/poll Lunch? | Pizza | Sushi | Tacos');
    expect(p.body.result).toBe('message');
    expect(p.body.message.text).toBe('Lunch?');
    expect(p.body.message.poll.options.map((o: { text: string }) => o.text)).toEqual(['Pizza', 'Sushi', 'Tacos']);
    const bad = await run('alice', '/poll Lunch? | Pizza');
    expect(bad.body.ephemeral.error).toBe(true);
    const me = await run('alice', '/me waves');
    expect(me.body.message.text).toBe('_waves_');
    const shrug = await run('alice', '/shrug fine');
    expect(shrug.body.message.text).toContain('(ツ)');
  });
});

describe('/giphy', () => {
  it('says so when no provider is configured', async () => {
    const r = await run('alice', '/giphy cats');
    expect(r.body.ephemeral).toMatchObject({ error: true });
    expect(r.body.ephemeral.text).toContain('not set up');
  });

  it('GIPHY: previews, shuffles, sends as an attachment everyone sees', async () => {
    const set = await h.call({
      method: 'PUT',
      url: '/v1/commands/gif-provider',
      headers: await app.server(),
      payload: { provider: 'giphy', api_key: 'giphy-key', base_url: giphy.url },
    });
    expect(set.status).toBe(200);
    expect(set.body.gif_provider).toMatchObject({ provider: 'giphy', base_url: giphy.url });
    expect(JSON.stringify(set.body)).not.toContain('giphy-key');
    const a1 = await TestSocket.connect(base, app, 'alice');
    const a2 = await TestSocket.connect(base, app, 'alice');
    const b = await TestSocket.connect(base, app, 'bob');
    const r = await run('alice', '/giphy cats');
    expect(r.body.result).toBe('ephemeral');
    const e = r.body.ephemeral;
    expect(e.images[0]).toMatchObject({ title: 'cats GIF 0', width: 240, height: 160 });
    // The preview is proxied by the server (signed path), not a link to the provider.
    const img = await h.app.inject({ method: 'GET', url: e.images[0].url });
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/gif');
    expect(giphy.downloads).toEqual(['/media/0.gif']);
    // Change the signature's first character to another one (a fixed 'x' would be no change when
    // the signature already starts with it: one run in 64).
    const forgedUrl = (e.images[0].url as string).replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'x' ? 'y' : 'x'}`);
    expect(forgedUrl).not.toBe(e.images[0].url);
    const forged = await h.app.inject({ method: 'GET', url: forgedUrl });
    expect(forged.statusCode).toBe(404);
    expect(e.actions.map((x: { name: string }) => x.name)).toEqual(['send', 'shuffle', 'cancel']);
    const q = giphy.searches.at(-1) as URLSearchParams;
    expect(q.get('q')).toBe('cats');
    expect(q.get('api_key')).toBe('giphy-key');
    expect(q.get('rating')).toBe('g');
    await a2.waitFor((f) => f.type === 'ephemeral.new' && f.ephemeral.id === e.id);

    const act = async (name: string) =>
      h.call({
        method: 'POST',
        url: `/v1/ephemerals/${e.id}/actions`,
        headers: await app.user('alice'),
        payload: { name },
      });
    const shuffled = await act('shuffle');
    expect(shuffled.body.ephemeral).toMatchObject({ id: e.id });
    expect(shuffled.body.ephemeral.images[0].url).toMatch(new RegExp(`^/v1/gif-previews/${app.id}/${e.id}/1\\?`));
    await a1.waitFor((f) => f.type === 'ephemeral.new' && f.ephemeral.images[0]?.url.includes(`${e.id}/1?`));

    const sent = await act('send');
    expect(sent.status).toBe(200);
    expect(sent.body.ephemeral).toBeNull();
    const m = sent.body.message;
    expect(m.user_id).toBe('alice');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ kind: 'image', mime_type: 'image/gif', width: 240, height: 160 });
    expect(giphy.downloads).toContain('/media/1.gif');
    for (const s of [a1, a2]) await s.waitFor((f) => f.type === 'ephemeral.deleted' && f.id === e.id);
    await b.waitFor((f) => f.type === 'message.new' && f.message.id === m.id);
    // Bob can read the GIF's bytes: a stored attachment of the channel.
    const file = await h.app.inject({ method: 'GET', url: m.attachments[0].url, headers: await app.user('bob') });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.subarray(0, 3).toString()).toBe('GIF');
    // Clicking again finds nothing: it was sent once.
    expect((await act('send')).status).toBe(404);
    expect((await history()).filter((x) => x.id === m.id)).toHaveLength(1);
    for (const s of [a1, a2, b]) s.close();
  });

  it('Cancel removes the preview and posts nothing; a failing provider is an ephemeral error', async () => {
    const a = await TestSocket.connect(base, app, 'alice');
    const before = await posted();
    const r = await run('alice', '/giphy dogs');
    const cancel = await h.call({
      method: 'POST',
      url: `/v1/ephemerals/${r.body.ephemeral.id}/actions`,
      headers: await app.user('alice'),
      payload: { name: 'cancel' },
    });
    expect(cancel.body.ephemeral).toBeNull();
    await a.waitFor((f) => f.type === 'ephemeral.deleted' && f.id === r.body.ephemeral.id);
    expect(await posted()).toEqual(before);
    const none = await run('alice', '/giphy nothing');
    expect(none.body.ephemeral.text).toContain('No GIFs found');
    giphy.failWith = 503;
    const down = await run('alice', '/giphy cats');
    giphy.failWith = null;
    expect(down.body.ephemeral).toMatchObject({ error: true });
    expect(down.body.ephemeral.text).toContain('HTTP 503');
    expect(await posted()).toEqual(before);
    a.close();
  });

  it('Tenor: searches with its own parameters and sends', async () => {
    const wrong = await h.call({
      method: 'PUT',
      url: '/v1/commands/gif-provider',
      headers: await app.server(),
      payload: { provider: 'tenor', api_key: 'not-the-key', base_url: tenor.url },
    });
    expect(wrong.status).toBe(200);
    const refused = await run('alice', '/giphy cats');
    expect(refused.body.ephemeral).toMatchObject({ error: true });
    expect(refused.body.ephemeral.text).toContain('HTTP 400');
    await h.call({
      method: 'PUT',
      url: '/v1/commands/gif-provider',
      headers: await app.server(),
      payload: { provider: 'tenor', api_key: 'tenor-key', base_url: tenor.url, rating: 'medium' },
    });
    const r = await run('alice', '/giphy happy cats');
    expect(r.body.ephemeral.images[0]).toMatchObject({ title: 'happy cats GIF 0', width: 240, height: 160 });
    const q = tenor.searches.at(-1) as URLSearchParams;
    expect(q.get('q')).toBe('happy cats');
    expect(q.get('key')).toBe('tenor-key');
    expect(q.get('contentfilter')).toBe('medium');
    expect(q.get('client_key')).toBe('parley');
    const sent = await h.call({
      method: 'POST',
      url: `/v1/ephemerals/${r.body.ephemeral.id}/actions`,
      headers: await app.user('alice'),
      payload: { name: 'send' },
    });
    expect(sent.body.message.attachments[0].kind).toBe('image');
    // Only an admin sets the provider.
    const byUser = await h.call({
      method: 'PUT',
      url: '/v1/commands/gif-provider',
      headers: await app.user('alice'),
      payload: { provider: 'tenor', api_key: 'x' },
    });
    expect(byUser.status).toBe(403);
    const other2 = await h.call({ method: 'GET', url: '/v1/commands/gif-provider', headers: await other.server() });
    expect(other2.body.gif_provider).toBeNull();
  });
});

describe('rate limits', () => {
  it('counts commands against their own budget', async () => {
    const limited = await startHarness({
      limits: { ...h.config.limits, commands: { user: 2, ip: 0, app: 0, windowMs: 60_000 } },
    });
    try {
      const a = await limited.createApp();
      await limited.users(a, [{ id: 'alice' }]);
      await limited.call({
        method: 'POST',
        url: '/v1/channels',
        headers: await a.user('alice'),
        payload: { type: 'group', id: 'solo', members: [] },
      });
      const go = async () =>
        limited.call({
          method: 'POST',
          url: '/v1/channels/group:solo/commands/run',
          headers: await a.user('alice'),
          payload: { text: '/me waves' },
        });
      expect((await go()).status).toBe(200);
      expect((await go()).status).toBe(200);
      const third = await go();
      expect(third.status).toBe(429);
      expect(third.body.error.details).toMatchObject({ limit: 'commands', scope: 'user' });
    } finally {
      await limited.close();
    }
  });
});

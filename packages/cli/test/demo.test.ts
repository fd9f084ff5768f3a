/**
 * `parley demo` end to end: the real command seeds a fresh PGlite data folder (starting a server
 * of its own), refuses a second run, and what it made is read back through the REST API of a
 * server started on the folder afterwards, signed in as the printed credentials. A second folder
 * is seeded through a server already running on it.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp, freePort, type Proc, run, startServer, stop, tempDir } from './spawn.js';

const DEMO_WAIT = 150_000;
/** A first start on a fresh folder, beside other tests' servers and Chromium on a shared box. */
const START_WAIT = 90_000;

/** Sign in as `email` on `base` and open the workspace: chat headers and the user id. */
async function signIn(base: string, email: string, password: string) {
  const json = { origin: base, 'content-type': 'application/json' };
  const r = await fetch(`${base}/v1/auth/signin`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const list = (await (await fetch(`${base}/v1/workspaces`, { headers: { cookie } })).json()) as any;
  const ws = list.workspaces[0];
  const sess = (await (
    await fetch(`${base}/v1/workspaces/${ws.id}/session`, { method: 'POST', headers: { ...json, cookie }, body: '{}' })
  ).json()) as any;
  const headers = { authorization: `Bearer ${sess.token}`, 'x-api-key': sess.api_key };
  const get = async (url: string) => {
    const res = await fetch(`${base}${url}`, { headers });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body;
  };
  return { ws, userId: sess.user_id as string, get };
}

describe('parley demo', () => {
  let server: Proc | null = null;
  afterAll(async () => {
    if (server) await stop(server);
    await cleanUp();
  });

  it('--help says what it does', async () => {
    const r = await run(['demo', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: parley demo/m);
    expect(r.out).toMatch(/refuses/);
  });

  it(
    'seeds a fresh data folder, refuses a second run, and the workspace is there through the API',
    async () => {
      const data = path.join(tempDir(), 'data');
      // The port the server will be started on: pictures' URLs point there.
      const port = await freePort();
      const first = await run(['demo', '--data', data, '--port', String(port), '--json'], {}, DEMO_WAIT);
      expect(first.code, first.err).toBe(0);
      const result = JSON.parse(first.out);
      expect(result.workspace.name).toBe('Lighthouse Labs');
      expect(result.people).toHaveLength(5);

      const human = await run(['demo', '--data', data], {}, DEMO_WAIT);
      expect(human.code).toBe(1);
      expect(human.err).toMatch(/the demo is already here/);
      expect(human.err).toContain(result.email);
      expect(human.out).toBe('');

      server = await startServer(port, data, {}, START_WAIT);
      const base = `http://127.0.0.1:${port}`;
      expect(result.url).toBe(base);
      const ada = await signIn(base, result.email, result.password);
      expect(ada.ws.name).toBe('Lighthouse Labs');

      // People: five members, each with a username and an uploaded avatar.
      const me = await ada.get('/v1/me');
      expect(me.user.username).toBe('ada');
      expect(me.user.image).toMatch(new RegExp(`^${base}/v1/images/`));
      const avatar = await fetch(`${me.user.image}?size=64`);
      expect(avatar.status).toBe(200);
      expect(avatar.headers.get('content-type')).toMatch(/^image\//);

      // Channels with their conversations; one unread mention waits for Ada in #engineering.
      const general = await ada.get('/v1/channels/public:general/messages?limit=50');
      const texts = general.messages.map((m: any) => m.text);
      expect(texts.some((t: string) => t.startsWith('Welcome to **Lighthouse Labs**'))).toBe(true);
      const welcome = general.messages.find((m: any) => m.text.startsWith('Welcome'));
      expect(welcome.pinned).toBe(true);
      expect(welcome.reactions.celebrate).toBe(2);
      const launch = general.messages.find((m: any) => m.text.startsWith('The 2.0 launch'));
      expect(launch.reply_count).toBe(4);
      const poll = general.messages.find((m: any) => m.poll);
      expect(poll.poll.options.map((o: any) => o.vote_count)).toEqual([2, 1, 1]);
      expect(general.messages.some((m: any) => m.quoted_message)).toBe(true);

      const design = await ada.get('/v1/channels/public:design/messages?limit=50');
      const withFiles = design.messages.find((m: any) => m.attachments?.length === 2);
      expect(withFiles.attachments.map((a: any) => a.name ?? a.file_name)).toEqual([
        'weekly-active-teams.png',
        'launch-page-brief.md',
      ]);

      const eng = await ada.get('/v1/channels/public:engineering');
      expect(eng.channel.membership.last_read_seq).toBeLessThan(eng.channel.last_seq);
      const gen = await ada.get('/v1/channels/public:general');
      expect(gen.channel.membership.last_read_seq).toBe(gen.channel.last_seq);
      expect(gen.members).toHaveLength(5);
      // Grace's request in #engineering is a task for Ada.
      const tasks = await ada.get('/v1/me/tasks');
      expect(tasks.tasks.map((t: any) => t.message.text)).toEqual([
        '@ada can you approve the release PR when you have a minute?',
      ]);

      // Everyone can sign in with the printed password.
      const linus = await signIn(base, 'linus@demo.parley.chat', result.password);
      expect(linus.ws.id).toBe(ada.ws.id);
    },
    DEMO_WAIT * 3,
  );

  it(
    'seeds through a server already running on the data folder and prints its URL',
    async () => {
      const data = path.join(tempDir(), 'data');
      const port = await freePort();
      const running = await startServer(port, data, {}, START_WAIT);
      try {
        const r = await run(['demo', '--data', data], {}, DEMO_WAIT);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toContain(`Open http://127.0.0.1:${port}/ and sign in as ada@demo.parley.chat`);
        expect(r.out).not.toContain('Start the server');
        const ada = await signIn(`http://127.0.0.1:${port}`, 'ada@demo.parley.chat', 'parley-demo-lighthouse');
        const random = await ada.get('/v1/channels/public:random/messages');
        expect(random.messages.map((m: any) => m.text)).toContain('Who broke the coffee machine? ☕️');
      } finally {
        await stop(running);
      }
    },
    DEMO_WAIT * 2,
  );
});

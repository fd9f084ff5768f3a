/**
 * `parley demo`: a workspace that looks lived in — five people with avatars, channels with a
 * conversation, threads, reactions, a poll, a pinned message, files, a DM and read marks — so
 * whoever opens the web app for the first time sees the product working.
 *
 * Everything goes through the public HTTP API, as people would make it (sign up, create the
 * workspace, invite, accept, send…): no row is written behind the server's back, so the events,
 * counts and search index are what they would be. On PGlite with no server running, the command
 * starts one of its own on a free loopback port for the seeding and stops it; with a server on
 * the data folder (or one answering with DATABASE_URL), it seeds through that one.
 *
 * Run twice, it refuses: the first account's email is taken, and it says so with the
 * credentials, writing nothing.
 */
import type { Values } from './args.js';
import { CliError } from './errors.js';
import { withData } from './reach.js';
import { cliEnv, settings } from './settings.js';

/** The password of every demo account (printed; a demo is not a place for secrets). */
export const DEMO_PASSWORD = 'parley-demo-lighthouse';
export const DEMO_WORKSPACE = 'Lighthouse Labs';

/** The people, first the owner you sign in as. */
export const DEMO_PEOPLE = [
  { key: 'ada', name: 'Ada Lovelace', email: 'ada@demo.parley.chat', color: '#7c3aed', title: 'Founder' },
  { key: 'grace', name: 'Grace Hopper', email: 'grace@demo.parley.chat', color: '#0891b2', title: 'Engineering' },
  { key: 'alan', name: 'Alan Turing', email: 'alan@demo.parley.chat', color: '#16a34a', title: 'Research' },
  { key: 'kath', name: 'Katherine Johnson', email: 'katherine@demo.parley.chat', color: '#ea580c', title: 'Design' },
  { key: 'linus', name: 'Linus Pauling', email: 'linus@demo.parley.chat', color: '#db2777', title: 'Operations' },
] as const;
type Key = (typeof DEMO_PEOPLE)[number]['key'];

/** What the seeding made (the test and the React kit's catalogue read it). */
export interface DemoResult {
  url: string;
  workspace: { id: string; name: string };
  email: string;
  password: string;
  people: { name: string; email: string; user_id: string }[];
  channels: string[];
  messages: number;
}

// biome-ignore lint/suspicious/noExplicitAny: answers of many routes, read a field or two each
type Loose = any;

interface Session {
  api_key: string;
  token: string;
  user_id: string;
}

/** One HTTP exchange; a non-2xx answer becomes an error naming the call. */
async function http(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; form?: FormData; cookie?: string; session?: Session } = {},
): Promise<{ status: number; json: Loose; cookie: string | null }> {
  const headers: Record<string, string> = { origin: base };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.session) {
    headers.authorization = `Bearer ${opts.session.token}`;
    headers['x-api-key'] = opts.session.api_key;
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : opts.form ? { body: opts.form } : {}),
  });
  const text = await res.text();
  let json: Loose;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  const set = res.headers.getSetCookie?.()[0] ?? null;
  return { status: res.status, json, cookie: set ? (set.split(';')[0] as string) : null };
}

async function must(r: Promise<{ status: number; json: Loose; cookie: string | null }>, what: string) {
  const a = await r;
  if (a.status < 200 || a.status > 299)
    throw new CliError(`demo: ${what} failed (${a.status} ${a.json?.error?.message ?? JSON.stringify(a.json)})`);
  return a;
}

/** A round avatar with initials, as a PNG (sharp renders the SVG). */
async function avatarPng(name: string, color: string): Promise<Uint8Array<ArrayBuffer>> {
  const { default: sharp } = await import('sharp');
  const initials = name
    .split(' ')
    .map((w) => w[0])
    .join('')
    .slice(0, 2);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${color}"/><stop offset="1" stop-color="#111827"/></linearGradient></defs>
  <rect width="256" height="256" fill="url(#g)"/>
  <text x="128" y="158" font-family="DejaVu Sans, Arial, sans-serif" font-size="96" font-weight="700" fill="#ffffff" text-anchor="middle">${initials}</text>
</svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
}

/** A small bar chart as a PNG: the "files" of #design. */
async function chartPng(): Promise<Uint8Array<ArrayBuffer>> {
  const { default: sharp } = await import('sharp');
  const bars = [42, 68, 55, 90, 120, 150]
    .map(
      (h, i) =>
        `<rect x="${40 + i * 90}" y="${300 - h * 1.6}" width="60" height="${h * 1.6}" rx="6" fill="#6366f1"/>` +
        `<text x="${70 + i * 90}" y="330" font-family="DejaVu Sans, sans-serif" font-size="18" text-anchor="middle" fill="#374151">W${i + 1}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="360"><rect width="600" height="360" fill="#f9fafb"/>
  <text x="30" y="40" font-family="DejaVu Sans, sans-serif" font-size="24" font-weight="700" fill="#111827">Weekly active teams</text>${bars}</svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
}

/**
 * Seed the demo through the server at `base`. Throws a CliError when it is there already.
 * `log` hears one line per step.
 */
export async function seedDemo(base: string, log: (line: string) => void = () => {}): Promise<DemoResult> {
  const owner = DEMO_PEOPLE[0];
  // Accounts: the owner first; a taken email means the demo was seeded here before.
  const first = await http(base, 'POST', '/v1/auth/signup', {
    body: { email: owner.email, password: DEMO_PASSWORD, name: owner.name },
  });
  if (first.status === 409)
    throw new CliError(
      `the demo is already here (${owner.email} exists); nothing was changed. ` +
        `Sign in as ${owner.email} with the password ${DEMO_PASSWORD}, or use another --data folder for a fresh one`,
    );
  if (first.status !== 200 || !first.cookie)
    throw new CliError(`demo: signing up ${owner.email} failed (${first.status} ${JSON.stringify(first.json)})`);
  const cookies: Record<Key, string> = { [owner.key]: first.cookie } as Record<Key, string>;
  log(`account ${owner.email}`);
  const ws = (
    await must(
      http(base, 'POST', '/v1/workspaces', { body: { name: DEMO_WORKSPACE }, cookie: first.cookie }),
      'creating the workspace',
    )
  ).json.workspace as { id: string; name: string };
  for (const p of DEMO_PEOPLE.slice(1)) {
    const r = await must(
      http(base, 'POST', '/v1/auth/signup', { body: { email: p.email, password: DEMO_PASSWORD, name: p.name } }),
      `signing up ${p.email}`,
    );
    cookies[p.key] = r.cookie as string;
    const invite = await must(
      http(base, 'POST', `/v1/workspaces/${ws.id}/invites`, { body: {}, cookie: first.cookie }),
      'inviting',
    );
    await must(
      http(base, 'POST', `/v1/invites/${encodeURIComponent(invite.json.token)}/accept`, {
        body: {},
        cookie: r.cookie as string,
      }),
      `${p.email} joining`,
    );
    log(`account ${p.email}`);
  }
  const s = {} as Record<Key, Session>;
  for (const p of DEMO_PEOPLE) {
    s[p.key] = (
      await must(
        http(base, 'POST', `/v1/workspaces/${ws.id}/session`, { body: {}, cookie: cookies[p.key] }),
        'a session',
      )
    ).json as Session;
  }
  const id = (k: Key) => s[k].user_id;
  const all = DEMO_PEOPLE.map((p) => id(p.key));

  // Profiles: a title, a username and an avatar each.
  for (const p of DEMO_PEOPLE) {
    await must(
      http(base, 'PATCH', '/v1/me', { body: { username: p.key, title: p.title }, session: s[p.key] }),
      `${p.name}'s profile`,
    );
    const form = new FormData();
    form.append('file', new Blob([await avatarPng(p.name, p.color)], { type: 'image/png' }), `${p.key}.png`);
    await must(http(base, 'PUT', '/v1/me/avatar', { form, session: s[p.key] }), `${p.name}'s avatar`);
  }
  log('profiles and avatars');

  // Channels: #general is there; the others are made by someone and joined by everyone.
  const made: [string, Key, string][] = [
    ['design', 'kath', 'Mockups, reviews and the brand'],
    ['engineering', 'grace', 'Builds, incidents and code review'],
    ['random', 'linus', 'Everything else ☕'],
  ];
  // #general as the web app makes it for a new workspace's owner (apps/web workspace-setup.ts).
  for (const [name, by, topic] of [
    ['general', 'ada', 'Announcements and conversations for everyone'] as [string, Key, string],
    ...made,
  ]) {
    await must(
      http(base, 'POST', '/v1/channels', {
        body: { type: 'public', id: name, name, topic, members: all },
        session: s[by],
      }),
      `creating #${name}`,
    );
  }
  const channels = ['public:general', ...made.map(([n]) => `public:${n}`)];
  log(`channels ${channels.join(', ')}`);

  let count = 0;
  const send = async (k: Key, cid: string, body: Record<string, unknown>) => {
    count += 1;
    return (
      await must(http(base, 'POST', `/v1/channels/${cid}/messages`, { body, session: s[k] }), `a message in ${cid}`)
    ).json.message as { id: string };
  };
  const react = (k: Key, messageId: string, type: string) =>
    must(http(base, 'POST', `/v1/messages/${messageId}/reactions`, { body: { type }, session: s[k] }), 'a reaction');

  // #general: a welcome, a thread, reactions, a poll with votes, a pin.
  const g = 'public:general';
  const welcome = await send('ada', g, {
    text: `Welcome to **${DEMO_WORKSPACE}**! 👋 This is a demo workspace: everything here was made by \`parley demo\`. Try replying in a thread, reacting, or starting a poll with /poll.`,
  });
  await react('grace', welcome.id, 'celebrate');
  await react('alan', welcome.id, 'celebrate');
  await react('kath', welcome.id, 'love');
  await must(http(base, 'POST', `/v1/messages/${welcome.id}/pin`, { body: {}, session: s.ada }), 'pinning');
  const launch = await send('grace', g, { text: 'The 2.0 launch is Thursday. Checklist in the thread 🧵' });
  await send('linus', g, { text: 'Docs are frozen, release notes drafted.', parent_id: launch.id });
  await send('alan', g, { text: 'Load test passed: 10k sockets on one node, p99 under 40 ms.', parent_id: launch.id });
  await send('kath', g, { text: 'Screenshots for the site are in #design.', parent_id: launch.id });
  await send('grace', g, { text: 'Thanks all: we are go for Thursday 🚀', parent_id: launch.id });
  await react('ada', launch.id, 'fire');
  const poll = await send('linus', g, {
    text: 'Where should the launch party be?',
    poll: { options: ['Rooftop', 'The lab', 'Pizza place around the corner'] },
  });
  for (const [k, opt] of [
    ['ada', '0'],
    ['grace', '0'],
    ['alan', '2'],
    ['kath', '1'],
  ] as const)
    await must(
      http(base, 'POST', `/v1/messages/${poll.id}/poll/votes`, { body: { option_ids: [opt] }, session: s[k] }),
      'a vote',
    );
  const q = await send('alan', g, { text: '@grace does the launch need a freeze on main from Wednesday?' });
  await send('grace', g, { text: 'Yes, from Wednesday noon. I will post in #engineering.', quoted_message_id: q.id });

  // #design: files and feedback.
  const d = 'public:design';
  const upload = async (k: Key, cid: string, bytes: Uint8Array<ArrayBuffer>, name: string, type: string) => {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    return (await must(http(base, 'POST', `/v1/channels/${cid}/uploads`, { form, session: s[k] }), `uploading ${name}`))
      .json.attachment as { id: string };
  };
  const chart = await upload('kath', d, await chartPng(), 'weekly-active-teams.png', 'image/png');
  const brief = await upload(
    'kath',
    d,
    new TextEncoder().encode(
      '# Launch page\n\n- Hero: "Chat that is yours"\n- Three screenshots\n- One call to action\n',
    ),
    'launch-page-brief.md',
    'text/markdown',
  );
  const shots = await send('kath', d, {
    text: 'New launch page brief and the growth chart for the hero section. Feedback welcome!',
    attachments: [chart.id, brief.id],
  });
  await react('ada', shots.id, 'like');
  await react('linus', shots.id, 'eyes');
  await send('ada', d, { text: 'Love the chart. Can we make the bars our purple?', parent_id: shots.id });
  await send('kath', d, { text: 'Done in the next version ✅', parent_id: shots.id });

  // #engineering: a code block, a mention; Ada leaves it unread.
  const e = 'public:engineering';
  await send('grace', e, { text: 'Code freeze on `main` from Wednesday 12:00. Hotfixes go through review as usual.' });
  await send('alan', e, {
    text: 'The reconnect fix, for reference:\n```ts\nclient.on("connection.changed", (e) => e.online && resync());\n```',
  });
  const ping = await send('grace', e, { text: '@ada can you approve the release PR when you have a minute?' });
  await react('alan', ping.id, 'check');

  // #random
  const r = 'public:random';
  const coffee = await send('linus', r, { text: 'Who broke the coffee machine? ☕️' });
  await react('grace', coffee.id, 'laugh');
  await react('alan', coffee.id, 'laugh');
  const alibi = await send('alan', r, { text: 'It was like that when I found it' });
  await must(
    http(base, 'PATCH', `/v1/messages/${alibi.id}`, {
      body: { text: 'It was like that when I found it. Honest.' },
      session: s.alan,
    }),
    'an edit',
  );
  const oops = await send('kath', r, { text: 'Wrong channel, sorry!' });
  await must(http(base, 'DELETE', `/v1/messages/${oops.id}`, { session: s.kath }), 'a delete');

  // A DM between Grace and Ada.
  const dm = await must(
    http(base, 'POST', '/v1/channels', { body: { type: 'dm', members: [id('grace'), id('ada')] }, session: s.grace }),
    'a DM',
  );
  const dmCid = dm.json.channel.cid as string;
  await send('grace', dmCid, { text: 'Quick one: are you joining the launch call Thursday?' });
  await send('ada', dmCid, { text: 'Wouldn’t miss it.' });
  log(`${count} messages`);

  // Ada's own corners: #design starred, a "Launch" section, a saved message, a bookmark, notes.
  await must(http(base, 'PUT', '/v1/me/starred/public%3Adesign', { session: s.ada }), 'starring');
  const sections = await must(
    http(base, 'POST', '/v1/me/sidebar/sections', { body: { name: 'Launch' }, session: s.ada }),
    'a sidebar section',
  );
  const launchSection = (sections.json.sidebar.sections as { id: string; name: string }[]).find(
    (x) => x.name === 'Launch',
  );
  await must(
    http(base, 'PUT', `/v1/me/sidebar/channels/${encodeURIComponent(e)}`, {
      body: { section_id: launchSection?.id ?? null },
      session: s.ada,
    }),
    'placing #engineering',
  );
  await must(http(base, 'POST', '/v1/saved', { body: { message_id: launch.id }, session: s.ada }), 'saving');
  await must(
    http(base, 'POST', `/v1/channels/${g}/bookmarks`, {
      body: { url: 'https://github.com/', title: 'Release checklist' },
      session: s.grace,
    }),
    'a bookmark',
  );
  await must(
    http(base, 'POST', '/v1/notes', {
      body: {
        cid: g,
        title: 'Launch plan',
        text: '# Launch plan\n\n1. Freeze main Wednesday noon\n2. Ship Thursday 10:00\n3. Party 🎉',
      },
      session: s.ada,
    }),
    'a channel note',
  );
  await must(
    http(base, 'POST', '/v1/notes', {
      body: { title: 'My todo', text: '- [ ] Approve the release PR' },
      session: s.ada,
    }),
    'a note',
  );
  // Grace makes her request of Ada a task, due tomorrow: Ada's Activity and Saved list it.
  await must(
    http(base, 'POST', '/v1/tasks', {
      body: { message_id: ping.id, assignee_id: id('ada'), due_at: new Date(Date.now() + 86_400_000).toISOString() },
      session: s.grace,
    }),
    'a task',
  );
  log('stars, a section, saved, a bookmark, notes, a task');

  // Read marks: everyone has read everything, except Ada in #engineering (a mention waiting).
  for (const p of DEMO_PEOPLE)
    for (const cid of [...channels, ...(p.key === 'ada' || p.key === 'grace' ? [dmCid] : [])]) {
      if (p.key === 'ada' && cid === e) continue;
      const ch = await must(http(base, 'GET', `/v1/channels/${cid}`, { session: s[p.key] }), 'a channel');
      await must(
        http(base, 'POST', `/v1/channels/${cid}/read`, { body: { seq: ch.json.channel.last_seq }, session: s[p.key] }),
        'a read mark',
      );
    }
  log('read marks');

  return {
    url: base,
    workspace: ws,
    email: owner.email,
    password: DEMO_PASSWORD,
    people: DEMO_PEOPLE.map((p) => ({ name: p.name, email: p.email, user_id: id(p.key) })),
    channels: [...channels, dmCid],
    messages: count,
  };
}

/** The URL `parley start` prints for this host and port. */
function startUrl(host: string | undefined, port: number): string {
  const h = !host ? '127.0.0.1' : host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${h}:${port}`;
}

/** `parley demo`: seed through the running server, or through one of its own. */
export async function demo(values: Values): Promise<{ result: DemoResult; text: string }> {
  const s = settings(values);
  const note = (line: string) => process.stderr.write(`parley: demo: ${line}\n`);
  let ownServer = false;
  const result = await withData<DemoResult>(s, 'demo', {
    api: (api) => seedDemo(api.base, note),
    direct: async () => {
      ownServer = true;
      const server = await import('@parley/server');
      const env = cliEnv(values);
      // On a free loopback port, quiet: it would log each account's verification mail (no SMTP).
      // Pictures' URLs are stored absolute: make them the address `parley start` will serve.
      const cfg = server.configFromEnv({
        ...env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
        PARLEY_PUBLIC_URL: env.PARLEY_PUBLIC_URL || startUrl(env.HOST, s.port),
      });
      // Its public URL is a guess at `parley start`'s: pictures already stored stay where they are.
      const running = await server.startServer(cfg, { followPublicUrl: false });
      try {
        return await seedDemo(running.url, note);
      } finally {
        await running.stop();
      }
    },
  });
  // Its own server is gone: the URL is the one `parley start` will listen on.
  const env = cliEnv(values);
  const url = ownServer ? env.PARLEY_PUBLIC_URL || startUrl(env.HOST, s.port) : result.url;
  result.url = url;
  const lines = [
    `Demo workspace "${result.workspace.name}" is ready: ${result.people.length} people, ${result.channels.length - 1} channels and a DM, ${result.messages} messages.`,
    ownServer ? `Start the server with: npx parley start${values.data ? ` --data ${values.data}` : ''}` : null,
    // PORT=0: `parley start` picks a free port, so only it can say where.
    `Open ${ownServer && !env.PARLEY_PUBLIC_URL && s.port === 0 ? 'the address parley start prints' : `${url}/`} and sign in as ${result.email} with the password ${result.password}`,
    `(everyone else too: ${result.people
      .slice(1)
      .map((p) => p.email)
      .join(', ')}; same password)`,
  ].filter((l): l is string => l !== null);
  return { result, text: lines.join('\n') };
}

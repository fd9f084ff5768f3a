/**
 * What the fuzz suites aim at: an app with users, channels and a message, and a signed-in
 * account with a workspace and an invite, so generated requests can name things that exist
 * and get past "not found" into the code behind it. And the one rule they check.
 */
import { ERRORS } from '@parley/protocol';
import { ADMIN, type Harness, type TestApp } from '../harness.js';

export interface World {
  app: TestApp;
  alice: Record<string, string>;
  bob: Record<string, string>;
  server: Record<string, string>;
  /** The account's first session (fixtures use their own: sign-out routes end theirs). */
  cookie: string;
  accountId: string;
  workspaceId: string;
}

/** One request the fuzzer made, kept to report (and replay) a failure. */
export interface Sent {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
}

/** Ids of one round of targets: fresh per route, so one route's deletes do not starve the next. */
export interface Targets {
  /** A session of its own: sign-out routes end theirs. */
  cookie: string;
  cids: string[];
  messageId: string;
  inviteId: string;
  inviteToken: string;
}

let n = 0;
/** The server's own origin as `inject` requests see it (Host localhost): cookie writes need it. */
export const ORIGIN = 'http://localhost';
const PASSWORD = 'correct horse battery';

export async function makeWorld(h: Harness): Promise<World> {
  const app = await h.createApp('fuzz');
  await h.users(app, [{ id: 'alice', username: 'alice' }, { id: 'bob', username: 'bob' }, { id: 'carol' }]);
  const signup = await h.app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    headers: { 'content-type': 'application/json' },
    payload: { email: 'fuzz@example.com', password: PASSWORD, name: 'Fuzz' },
  });
  if (signup.statusCode !== 200) throw new Error(`signup: ${signup.statusCode} ${signup.body}`);
  const cookie = String(signup.headers['set-cookie']).split(';')[0] as string;
  const ws = await h.app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: { 'content-type': 'application/json', cookie, origin: ORIGIN },
    payload: { name: 'Fuzz works' },
  });
  if (ws.statusCode !== 200) throw new Error(`workspace: ${ws.statusCode} ${ws.body}`);
  return {
    app,
    alice: await app.user('alice'),
    bob: await app.user('bob'),
    server: await app.server(),
    cookie,
    accountId: signup.json().account.id,
    workspaceId: ws.json().workspace.id,
  };
}

/** A new session, a group channel (alice owner, bob member), public channel, message and invite. */
export async function makeTargets(h: Harness, w: World): Promise<Targets> {
  const i = n++;
  const signin = await h.app.inject({
    method: 'POST',
    url: '/v1/auth/signin',
    headers: { 'content-type': 'application/json' },
    payload: { email: 'fuzz@example.com', password: PASSWORD },
  });
  if (signin.statusCode !== 200) throw new Error(`signin: ${signin.statusCode} ${signin.body}`);
  const cookie = String(signin.headers['set-cookie']).split(';')[0] as string;
  // A before-send hook the fuzzer set (to a URL that answers nothing, perhaps failing closed)
  // would refuse the fixture's own message: the fixture starts without one.
  await h.call({ method: 'DELETE', url: '/v1/hooks/before-send', headers: w.server });
  // So would automod rules the fuzzer wrote (a pattern that matches the fixture's text).
  await h.call({
    method: 'PUT',
    url: '/v1/moderation/automod',
    headers: w.server,
    payload: {
      blocked_words: [],
      blocked_patterns: [],
      blocked_domains: [],
      action: 'block',
      spam_channels: 0,
      spam_window_s: 60,
      max_mentions: 0,
    },
  });
  const cids: string[] = [];
  for (const [type, members] of [
    ['group', ['bob']],
    ['public', ['bob']],
  ] as const) {
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: w.alice,
      payload: { type, id: `${type[0]}${i}`, name: `${type} ${i}`, members },
    });
    if (r.status !== 200) throw new Error(`channel: ${r.status} ${JSON.stringify(r.body)}`);
    cids.push(r.body.channel.cid);
  }
  const m = await h.call({
    method: 'POST',
    url: `/v1/channels/${cids[0]}/messages`,
    headers: w.alice,
    payload: { text: 'hello @bob' },
  });
  if (m.status !== 200) throw new Error(`message: ${m.status} ${JSON.stringify(m.body)}`);
  const inv = await h.call({
    method: 'POST',
    url: `/v1/workspaces/${w.workspaceId}/invites`,
    headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' },
    payload: {},
  });
  if (inv.status !== 200) throw new Error(`invite: ${inv.status} ${JSON.stringify(inv.body)}`);
  return { cookie, cids, messageId: m.body.message.id, inviteId: inv.body.id, inviteToken: inv.body.token };
}

/** Headers for a route: its kind of caller, sometimes another kind (a 403 is fine too). */
export function callers(
  w: World,
  t: Targets,
  path: string,
  session: boolean,
  serverOnly: boolean,
): Record<string, string>[] {
  if (session) return [{ cookie: t.cookie, origin: ORIGIN }];
  if (path.startsWith('/v1/admin')) return [{ authorization: `Bearer ${ADMIN}` }];
  if (serverOnly) return [w.server, w.server, w.server, w.alice];
  return [w.alice, w.alice, w.alice, w.server, w.bob];
}

/**
 * The rule: an answer is a success, or an error from the catalogue with its own status — never
 * a 5xx, never `INTERNAL`, never a status the catalogue does not give that code. Returns what
 * is wrong, or null.
 */
export function untyped(status: number, body: unknown): string | null {
  const error = (body as { error?: { code?: unknown } } | undefined)?.error;
  if (status >= 200 && status < 300) return error ? `${status} with an error body` : null;
  const code = typeof error?.code === 'string' ? error.code : null;
  if (!code || !(code in ERRORS)) return `${status} without a catalogue code`;
  if (ERRORS[code as keyof typeof ERRORS].status !== status) return `${status} ${code}: not the code's status`;
  if (status >= 500) return `${status} ${code}`;
  return null;
}

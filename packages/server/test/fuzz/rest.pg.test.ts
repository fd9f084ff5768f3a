/**
 * No input gives a 500: every REST route in the OpenAPI document (so a new route is fuzzed
 * without anyone listing it) gets generated requests — path parameters, query strings and
 * JSON bodies built from its own schemas, with hostile strings (full Unicode, lone
 * surrogates, NUL, BOMs, the Big List of Naughty Strings) and hostile numbers (Infinity,
 * 1e20, 2^63, hex, 40 digits, negatives, fractions) mixed in at every level. Every answer must
 * be a 2xx or a typed 4xx from the catalogue, and a 2xx must carry back the text it stored
 * unchanged. Fixed seed, bounded runs: the same requests on every run, on both backends.
 */
import { SSE_PATH } from '@parley/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Harness, startHarness } from '../harness.js';
import {
  type Fixtures,
  FUZZ_RUNS,
  FUZZ_SEED,
  fitting,
  hostileString,
  mutated,
  NUMBER_TEXTS,
  RAW_URL_VALUES,
  RawNumber,
  sometimes,
  toJson,
  urlEncode,
} from './arbitraries.js';
import { callers, makeTargets, makeWorld, type Sent, type Targets, untyped, type World } from './fixture.js';

type JsonSchema = Parameters<typeof fitting>[0];
interface Parameter {
  in: 'path' | 'query';
  name: string;
  schema: JsonSchema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: JsonSchema | null;
  session: boolean;
  /** The route answers browser navigations with a documented 303 (the OpenID Connect callback). */
  redirects: boolean;
}

let h: Harness;
let w: World;
let operations: Operation[];

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h);
  await h.app.ready();
  const doc = (h.app as unknown as { swagger(): { paths: Record<string, Record<string, any>> } }).swagger();
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      // The fallback transport's stream down is an answer that never ends (an event stream held
      // open for the session): not a request and its answer. Its refusals are tested in
      // realtime/sse.pg.test.ts; its POST up is fuzzed here like every other route.
      .filter(([method]) => !(method === 'get' && path === SSE_PATH))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
        session: JSON.stringify(op.security ?? []).includes('session'),
        redirects: '303' in (op.responses ?? {}),
      })),
  );
});
afterAll(async () => {
  await h?.close();
});

/** A known value for each path parameter, by name and by the collection it is under. */
function pathValue(op: Operation, name: string, t: Targets): string {
  const under = op.path.split('/')[2];
  const known: Record<string, string | undefined> = {
    cid: t.cids[0],
    user_id: 'bob',
    type: 'like',
    account_id: w.accountId,
    invite_id: t.inviteId,
    // A join request: a well-formed id that names none (the route's typed NOT_FOUND).
    request_id: t.messageId,
    // A webhook delivery: a well-formed id that names none (the route's typed NOT_FOUND).
    delivery_id: t.messageId,
    // The fallback transport's POST: a well-formed id that names no stream (NOT_FOUND).
    connection_id: t.messageId,
    token: t.inviteToken,
    // A data export: a well-formed id that names none (the routes' typed NOT_FOUND / FORBIDDEN).
    export_id: t.messageId,
    // A channel bookmark: a well-formed id that names none (the routes' typed NOT_FOUND).
    bookmark_id: t.messageId,
    // A link preview image: the app's id and an image id that names none.
    app: w.app.id,
    // A picture (avatar, logo): the app's id and an image id that names none (NOT_FOUND).
    app_id: w.app.id,
    // A workspace slug that names none of the fuzzer's (NOT_FOUND), and its schema.
    slug: 'fuzz-works',
    // Files and uploads: a well-formed id that names no file (the routes' typed answers).
    id: {
      messages: t.messageId,
      // Deleting a user (DELETE /v1/users/{id}) takes carol, whom no other fixture needs.
      users: op.method.toUpperCase() === 'DELETE' ? 'carol' : 'bob',
      admin: w.app.id,
      workspaces: w.workspaceId,
      files: t.messageId,
      uploads: t.messageId,
      // A well-formed id that names no session of the fuzzer's (signing itself out would end
      // the run's cookie): the route's NOT_FOUND, and its schema.
      auth: t.messageId,
      'link-images': t.messageId,
      // Calls are made over the socket: a well-formed id that names no call (NOT_FOUND).
      calls: t.messageId,
      // The join page of the fuzzer's workspace (invite-only: NOT_FOUND, and its schema).
      join: w.workspaceId,
      // A well-formed id that names no flag: the review's NOT_FOUND, and its schema.
      moderation: t.messageId,
      // A Web Push subscription or device: a well-formed id that names none (NOT_FOUND).
      push: t.messageId,
      // Webhooks, reminders, scheduled messages: well-formed ids that name none (typed NOT_FOUND).
      webhooks: t.messageId,
      reminders: t.messageId,
      'scheduled-messages': t.messageId,
      // Spaces: a well-formed id that names none (the routes' typed NOT_FOUND).
      spaces: t.messageId,
      // Custom profile fields: a well-formed id that names none (the routes' typed NOT_FOUND).
      'profile-fields': t.messageId,
      images: t.messageId,
      // A custom emoji's image: a well-formed id that names none (NOT_FOUND).
      emoji: t.messageId,
      // User groups and inbox items: well-formed ids that name none (typed NOT_FOUND).
      'user-groups': t.messageId,
      inbox: t.messageId,
      // Sidebar sections and saved items: well-formed ids that name none (typed NOT_FOUND).
      me: t.messageId,
      saved: t.messageId,
      // Notes: a well-formed id that names none (the routes' typed NOT_FOUND).
      notes: t.messageId,
      // Tasks: a well-formed id that names none (the routes' typed NOT_FOUND).
      tasks: t.messageId,
      // Slash commands, ephemeral messages and GIF previews: well-formed ids that name none.
      commands: t.messageId,
      ephemerals: t.messageId,
      'gif-previews': t.messageId,
    }[under ?? ''],
    // A custom emoji's shortcode that names none (the delete's typed NOT_FOUND).
    shortcode: 'fuzz_emoji',
    // A note's version (GET /v1/notes/{id}/versions/{version}).
    version: '1',
    // A GIF preview's place among the search's results (GET /v1/gif-previews/{app}/{id}/{n}).
    n: '0',
    // A username to ask about (free, or taken by the fixture's users).
    name: 'fuzz.name',
    // An app's native push provider (admin).
    provider: 'apns',
    // A feature flag's key (PUT makes it, the others find it or answer NOT_FOUND).
    key: 'fuzz.flag',
    // An import's source (POST /v1/admin/imports/{source}): the body the fuzzer sends is no export.
    source: 'slack',
  };
  const v = known[name];
  if (v === undefined) throw new Error(`no fuzz fixture for path parameter "${name}" of ${op.method} ${op.path}`);
  return v;
}

function bodyFixtures(t: Targets): Fixtures {
  const users = ['alice', 'bob', 'carol'];
  return {
    cid: t.cids,
    message_id: [t.messageId],
    parent_id: [t.messageId],
    quoted_message_id: [t.messageId],
    user_id: users,
    created_by: users,
    'members[]': users,
    'add[]': users,
    'remove[]': users,
    seq: [0, 1, 2, 3],
    email: ['fuzz@example.com'],
  };
}

/** A generated value as a query string carries it. */
const asText = (v: unknown) => (typeof v === 'string' ? v : v instanceof RawNumber ? v.text : toJson(v));

/** Generated requests for one operation: valid ones, each with at most a few hostile changes. */
function requests(op: Operation, t: Targets, serverOnly: boolean): fc.Arbitrary<Sent> {
  const path = op.parameters.filter((p) => p.in === 'path');
  const query = op.parameters.filter((p) => p.in === 'query');
  const hostileUrlText = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TEXTS).map(urlEncode) },
    { weight: 3, arbitrary: hostileString.map(urlEncode) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_URL_VALUES) },
  );
  const queryArb = fc.tuple(
    ...query.map((p) =>
      sometimes(
        fitting(p.schema, { around: [t.messageId] }, p.name).map((v) => urlEncode(asText(v))),
        3,
      ),
    ),
  );
  const fixtures = bodyFixtures(t);
  const bodyArb: fc.Arbitrary<string | undefined> = op.body
    ? fc.oneof(
        { weight: 3, arbitrary: fitting(op.body, fixtures).map(toJson) },
        { weight: 8, arbitrary: mutated(op.body, fixtures).map(toJson) },
        { weight: 1, arbitrary: fc.constantFrom('{', '{"a":}', '', 'null', '[]', '"\\ud800"', '{"x":"\\u0000"}') },
      )
    : fc.option(fc.constantFrom('{}', '{"x":1}'), { freq: 4 }).map((b) => b ?? undefined);
  return fc
    .record({
      query: queryArb,
      body: bodyArb,
      who: fc.constantFrom(...callers(w, t, op.path, op.session, serverOnly)),
      // Now and then one hostile path parameter, one hostile query parameter, one unknown one.
      pathHit: sometimes(fc.tuple(fc.nat(), hostileUrlText), 4),
      queryHit: sometimes(fc.tuple(fc.nat(), hostileUrlText), query.length ? 2 : 8),
      extra: sometimes(fc.tuple(hostileString, hostileString), 10),
      // Now and then hostile credentials: an `api_key` query parameter, a session cookie.
      credHit: sometimes(hostileUrlText, 10),
    })
    .map(({ query: qv, body, who, pathHit, queryHit, extra, credHit }) => {
      const params = path.map((p) => urlEncode(pathValue(op, p.name, t)));
      if (pathHit && params.length) params[pathHit[0] % params.length] = pathHit[1];
      const pairs = query.map((p, i) => [p.name, qv[i]] as [string, string | null]);
      if (queryHit) {
        const at = queryHit[0] % (pairs.length + 1);
        // One past the end: a parameter the route does not know.
        if (at === pairs.length) pairs.push(['x', queryHit[1]]);
        else (pairs[at] as [string, string | null])[1] = queryHit[1];
      }
      if (extra) pairs.push([urlEncode(extra[0]), urlEncode(extra[1])]);
      const headers: Record<string, string> = { ...who };
      if (credHit !== null && headers.cookie) headers.cookie = `parley_session=${credHit}`;
      else if (credHit !== null && headers['x-api-key']) {
        delete headers['x-api-key'];
        pairs.push(['api_key', credHit]);
      }
      const qs = pairs.filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
      let i = 0;
      const url = op.path.replace(/\{[^}]+\}/g, () => params[i++] as string) + (qs.length ? `?${qs.join('&')}` : '');
      if (body !== undefined) headers['content-type'] = 'application/json';
      return { method: op.method, url, headers, ...(body === undefined ? {} : { payload: body }) };
    });
}

/** Text fields a 2xx must give back exactly as sent (names of accounts are stored trimmed). */
const ECHOED = new Set(['text', 'name', 'description', 'topic', 'image', 'emoji']);

/** Where a 2xx lost or changed a text it was sent: the first such field, or null. */
function changedText(sent: Sent, answer: unknown): string | null {
  if (!sent.payload) return null;
  let body: unknown;
  try {
    body = JSON.parse(sent.payload);
  } catch {
    return null;
  }
  const out = JSON.stringify(answer);
  const texts: [string, string][] = [];
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string' && ECHOED.has(key)) texts.push([key, v]);
    else if (Array.isArray(v)) for (const x of v) walk(x, key);
    // A filter's values select, they are not stored.
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'filter') walk(x, k);
  };
  // A status that expires (perhaps already) or is cleared shows as null: not an echo.
  if (body && typeof body === 'object' && ('expires_at' in body || (body as { text?: unknown }).text === null))
    return null;
  walk(body, '');
  for (const [key, v] of texts) {
    if (!out.includes(JSON.stringify(v).slice(1, -1)) && !out.includes(JSON.stringify(v.trim()).slice(1, -1)))
      return `${key} ${JSON.stringify(v)} is not in the answer`;
  }
  return null;
}

describe('hostile input over REST', () => {
  it('an api_key that holds NUL is an unknown key (401, socket 4501), not a failed lookup (500, socket 1013)', async () => {
    const token = await w.app.token('alice');
    for (const key of ['%00', 'x%00y', '%ED%A0%80'])
      expect(
        (await h.call({ method: 'GET', url: `/v1/me?api_key=${key}`, headers: { authorization: `Bearer ${token}` } }))
          .body.error.code,
      ).toBe('UNAUTHORIZED');
    const url = (await h.listen()).replace(/^http/, 'ws');
    const ws = new WebSocket(`${url}/v1/ws?api_key=%00`);
    ws.on('error', () => {});
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
    expect(await new Promise((resolve) => ws.on('close', resolve))).toBe(4501);
  });

  it('the route table is what the fuzzer covers', () => {
    expect(operations.length).toBeGreaterThanOrEqual(49);
    for (const op of operations)
      for (const p of op.parameters.filter((x) => x.in === 'path'))
        expect(() =>
          pathValue(op, p.name, { cookie: '', cids: ['c'], messageId: 'm', inviteId: 'i', inviteToken: 't' }),
        ).not.toThrow();
  });

  it('every route answers every input with a 2xx or a typed 4xx, and keeps text as sent', {
    timeout: 600_000,
  }, async () => {
    const failures = new Map<string, Sent & { answer: string }>();
    let sent = 0;
    let t: Targets | null = null;
    let last = '';
    for (const op of operations) {
      const t0 = performance.now();
      // Reads leave the targets as they were, so a read after a read shares them; any other
      // route gets fresh ones (a delete, a sign-out or an archive spoils them).
      if (!t || op.method !== 'GET' || last !== 'GET') t = await makeTargets(h, w);
      last = op.method;
      const targets = t;
      const statuses = new Map<number, number>();
      // Routes for server tokens are fuzzed mostly with one (a 403 teaches little).
      const probe = await h.call({
        method: op.method as 'GET',
        url: op.path.replace(/\{[^}]+\}/g, 'x'),
        headers: w.alice,
      });
      const serverOnly = probe.status === 403 && /server token/.test(probe.body?.error?.message ?? '');
      await fc.assert(
        fc.asyncProperty(requests(op, targets, serverOnly), async (req) => {
          sent++;
          const r = await h.app.inject({ ...req, method: req.method as 'GET' });
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          let body: unknown;
          try {
            body = r.body ? JSON.parse(r.body) : undefined;
          } catch {
            body = r.body;
          }
          // A documented 303 is fine when it stays on this server (a path, never another host).
          const redirect = op.redirects && r.statusCode === 303;
          const location = String(r.headers.location ?? '');
          const wrong = redirect
            ? /^\/(?![/\\])/.test(location)
              ? null
              : `303 to ${location.slice(0, 80)}`
            : (untyped(r.statusCode, body) ?? (r.statusCode < 300 ? changedText(req, body) : null));
          if (wrong) {
            const key = `${op.method} ${op.path}: ${wrong.replace(/ ".*$/, '')}`;
            if (!failures.has(key)) failures.set(key, { ...req, answer: `${r.statusCode} ${r.body.slice(0, 300)}` });
          }
        }),
        { seed: FUZZ_SEED, numRuns: FUZZ_RUNS ?? 30, endOnFailure: true },
      );
      if (process.env.PARLEY_FUZZ_VERBOSE)
        console.log(
          `${op.method} ${op.path}: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')} (${Math.round(performance.now() - t0)} ms)`,
        );
    }
    const report = [...failures].map(
      ([k, v]) => `${k}\n    ${v.method} ${v.url} ${v.payload ?? ''}\n    → ${v.answer}`,
    );
    expect(report, `${failures.size} distinct failures in ${sent} requests:\n${report.join('\n')}`).toEqual([]);
  });
});

/**
 * The conformance runner (`parley-conformance`, `parley conformance`, README.md): every wire scenario
 * over a bare WebSocket and HTTP against a running Parley, and every SDK scenario through an
 * adapter (adapter.ts) that drives an SDK in any language. A failed step names the scenario, the
 * step and the rule it checks, with what was seen.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parley } from '@parley/node';
import WebSocket from 'ws';
import { Adapter, AdapterError } from './adapter.js';
import { consecutive, fill, type Json, matches, matchSave, pick } from './match.js';

/** The kit's scenarios folder (wire/ and sdk/), shipped with this package: beside src/ and dist/. */
export const KIT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../scenarios');

/** One scenario of the kit: a JSON file of wire/ or sdk/ (README.md, "Writing a scenario"). */
export interface Scenario {
  name: string;
  description: string;
  users: string[];
  channels: { cid: string; members: string[] }[];
  steps: Json[];
}

/** The server a run tests, and how long its steps wait. */
export interface Target {
  /** The server's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** The operator's admin token: each scenario makes an app of its own. */
  adminToken: string;
  /** How long a step waits for what it expects (default 10 s). */
  waitMs?: number;
}

/** One scenario's result, as the command prints it (one JSON object per line with --json). */
export interface Outcome {
  kind: 'wire' | 'sdk';
  scenario: string;
  ok: boolean;
  ms: number;
  /** The failing step's index, the rule it checks and what was seen. */
  failure?: { step: number; rule: string; message: string };
}

/** A step that did not hold: the rule it checks and what was seen. */
export class StepFailure extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

/** The scenarios of one kind, in file-name order. */
export function loadScenarios(kind: 'wire' | 'sdk', dir = KIT): Scenario[] {
  return readdirSync(path.join(dir, kind))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, kind, f), 'utf8')) as Scenario);
}

/** The whole kit, both kinds, as one run reads it: once, before it starts. */
export interface Kit {
  wire: Scenario[];
  sdk: Scenario[];
}

/** Read the kit of `dir` (default: the one shipped with this package). */
export function loadKit(dir = KIT): Kit {
  return { wire: loadScenarios('wire', dir), sdk: loadScenarios('sdk', dir) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns something truthy, or fail the step with `rule` after `ms`. */
async function waitFor<T>(fn: () => T | Promise<T>, ms: number, rule: string, what: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new StepFailure(rule, what());
    await sleep(25);
  }
}

function check(ok: boolean, rule: string, message: () => string): void {
  if (!ok) throw new StepFailure(rule, message());
}

// ---- the app a scenario runs in -------------------------------------------------------------

interface App {
  apiKey: string;
  token(user: string | null): Promise<string>;
  call(method: string, url: string, as: string | null, body?: unknown): Promise<{ status: number; body: Json }>;
}

/** A fresh app with the scenario's users and channels (conformance/README.md, "Running a scenario"). */
async function setUp(s: Scenario, target: Target): Promise<App> {
  const made = await fetch(`${target.url}/v1/admin/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `conformance ${s.name}`.slice(0, 100) }),
  });
  const created = (await made.json().catch(() => null)) as Json;
  if (made.status !== 200)
    throw new StepFailure('setup', `POST /v1/admin/apps answered ${made.status}: ${JSON.stringify(created)}`);
  // The tokens an app's backend would sign: @parley/node's, so the kit needs no server code.
  const sdk = new Parley({ url: target.url, apiKey: created.api_key, apiSecret: created.api_secret });
  const token = (user: string | null) =>
    user === null ? sdk.createServerToken({ expiresIn: '1h' }) : sdk.createToken(user, { expiresIn: '1h' });
  const app: App = {
    apiKey: created.api_key,
    token,
    async call(method, url, as, body) {
      const r = await fetch(`${target.url}${url}`, {
        method,
        headers: {
          'x-api-key': created.api_key,
          authorization: `Bearer ${await token(as)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, body: await r.json().catch(() => null) };
    },
  };
  const users = await app.call('POST', '/v1/users', null, { users: s.users.map((id) => ({ id, name: id })) });
  if (users.status !== 200)
    throw new StepFailure('setup', `POST /v1/users: ${users.status} ${JSON.stringify(users.body)}`);
  for (const c of s.channels) {
    const [type, id] = c.cid.split(':') as [string, string];
    const r = await app.call('POST', '/v1/channels', null, { type, id, members: c.members, created_by: c.members[0] });
    if (r.status !== 200) throw new StepFailure('setup', `creating ${c.cid}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return app;
}

/** One channel's messages as the server has them for `viewer`, oldest first. */
async function history(app: App, cid: string, viewer: string): Promise<Json[]> {
  const out: Json[] = [];
  let after = 0;
  for (;;) {
    const r = await app.call('GET', `/v1/channels/${cid}/messages?after=${after}&limit=200`, viewer);
    if (r.status !== 200) throw new Error(`GET ${cid} messages: ${r.status} ${JSON.stringify(r.body)}`);
    const page = r.body.messages as Json[];
    out.push(...page);
    if (page.length < 200) return out;
    after = page.at(-1).seq;
  }
}

async function outcome(kind: Outcome['kind'], s: Scenario, body: () => Promise<void>): Promise<Outcome> {
  const t0 = Date.now();
  let step = -1;
  try {
    await body();
    return { kind, scenario: s.name, ok: true, ms: Date.now() - t0 };
  } catch (err) {
    const e = err as Error & { step?: number };
    step = e.step ?? -1;
    return {
      kind,
      scenario: s.name,
      ok: false,
      ms: Date.now() - t0,
      failure: { step, rule: err instanceof StepFailure ? err.rule : 'runner', message: e.message },
    };
  }
}

/** Run `steps`, tagging a failure with the index of the step that failed. */
async function eachStep(steps: Json[], run: (step: Json, i: number) => Promise<void>): Promise<void> {
  for (const [i, step] of steps.entries()) {
    try {
      await run(step, i);
    } catch (err) {
      (err as Error & { step?: number }).step = i;
      throw err;
    }
  }
}

// ---- wire scenarios -------------------------------------------------------------------------

interface Conn {
  ws: WebSocket;
  frames: Json[];
  /** Index after the last frame an `expect` matched. */
  cursor: number;
  closed: Promise<number>;
}

/** Run one wire scenario: frames over a bare WebSocket and REST calls, in an app of its own. */
export function runWire(s: Scenario, target: Target): Promise<Outcome> {
  const wait = target.waitMs ?? 10_000;
  return outcome('wire', s, async () => {
    const app = await setUp(s, target);
    const saved = new Map<string, Json>();
    const conns = new Map<string, Conn>();
    const conn = (name: string) => {
      const c = conns.get(name);
      if (!c) throw new StepFailure('scenario', `no connection named ${name} was opened`);
      return c;
    };
    try {
      await eachStep(s.steps, async (raw) => {
        const step = fill(raw, saved);
        if ('open' in step) {
          const ws = new WebSocket(`${target.url.replace(/^http/, 'ws')}/v1/ws?api_key=${app.apiKey}`);
          const c: Conn = {
            ws,
            frames: [],
            cursor: 0,
            closed: new Promise((r) => ws.addEventListener('close', (e) => r(e.code))),
          };
          ws.addEventListener('message', (e) => c.frames.push(JSON.parse(String(e.data))));
          await new Promise((resolve, reject) => {
            ws.addEventListener('open', resolve);
            ws.addEventListener('error', () => reject(new StepFailure('handshake', 'the socket did not open')));
          });
          ws.send(JSON.stringify({ type: 'auth', token: step.token ?? (await app.token(step.user)) }));
          conns.set(step.open, c);
          if (step.expect_close !== undefined) {
            const code = await Promise.race([c.closed, sleep(wait).then(() => 'still open')]);
            check(code === step.expect_close, 'close-code', () => `expected close ${step.expect_close}, got ${code}`);
          } else {
            await waitFor(
              () => c.frames.some((f) => f.type === 'hello'),
              wait,
              'handshake',
              () => `no hello frame; got ${JSON.stringify(c.frames).slice(0, 400)}`,
            );
          }
        } else if ('send' in step) {
          conn(step.send).ws.send(JSON.stringify(step.frame));
        } else if ('send_text' in step) {
          conn(step.send_text).ws.send(step.text);
        } else if ('expect' in step || 'expect_in_order' in step) {
          const c = conn(step.expect ?? step.expect_in_order);
          for (const pattern of step.frames ?? [step.frame]) {
            c.cursor = await waitFor(
              () => {
                for (let k = c.cursor; k < c.frames.length; k++)
                  if (matchSave(pattern, c.frames[k], saved)) return k + 1;
                return 0;
              },
              wait,
              step.rule ?? (step.expect_in_order ? 'frame-order' : 'frame'),
              () =>
                `no frame like ${JSON.stringify(pattern)}; got ${JSON.stringify(c.frames.slice(c.cursor)).slice(0, 600)}`,
            );
          }
        } else if ('count' in step) {
          const c = conn(step.count);
          const hits = c.frames.filter((f) => matches(step.frame, f, saved));
          check(
            hits.length === step.equals,
            step.rule ?? 'frame-count',
            () => `expected ${step.equals} frames like ${JSON.stringify(step.frame)}, got ${hits.length}`,
          );
          if (step.seqs_consecutive)
            check(consecutive(hits.map((f) => f.seq)), 'seq-consecutive', () => `seqs ${hits.map((f) => f.seq)}`);
        } else if ('cut' in step) {
          // No close frame, as a lost network does.
          conn(step.cut).ws.terminate();
        } else if ('rest' in step) {
          const r = step.rest;
          const res = await app.call(r.method, r.path, r.as === 'server' ? null : r.as, r.body);
          check(
            res.status === step.status,
            step.rule ?? 'rest-status',
            () => `${r.method} ${r.path}: expected ${step.status}, got ${res.status} ${JSON.stringify(res.body)}`,
          );
          if (step.body)
            check(
              matchSave(step.body, res.body, saved),
              step.rule ?? 'rest-body',
              () => `${r.method} ${r.path}: body ${JSON.stringify(res.body).slice(0, 800)}`,
            );
          for (const [name, dotted] of Object.entries<string>(step.save ?? {})) saved.set(name, pick(res.body, dotted));
          if (step.seqs_consecutive) {
            const seqs = (res.body[step.seqs_consecutive] as Json[]).map((e) => e.seq);
            check(consecutive(seqs), 'seq-consecutive', () => `seqs ${seqs}`);
          }
        } else {
          throw new StepFailure('scenario', `a step this runner does not know: ${JSON.stringify(raw).slice(0, 160)}`);
        }
      });
    } finally {
      for (const c of conns.values()) c.ws.terminate();
    }
  });
}

// ---- SDK scenarios, through an adapter -------------------------------------------------------

/** What an adapter answers `view` with: its SDK's messages of the channel, in its order. */
interface Viewed {
  id: string;
  seq: number;
  text: string;
  status: 'sending' | 'sent' | 'failed';
  user_id?: string;
}

/**
 * Why the client's view is not the server's, as the rule it breaks: lost sends (the outbox),
 * others' messages missing (a gap not filled), messages shown as sent that the server never
 * stored (an ack before storing), twice, out of order, or still pending.
 */
function diagnose(
  user: string,
  mine: Viewed[],
  server: Json[],
  count: number,
): { rule: string; message: string } | null {
  const ids = new Set(server.map((m) => m.id));
  const have = new Set(mine.map((m) => m.id));
  const regular = server.filter((m) => m.type === 'regular');
  const summary = `client ${mine.length} (${mine.filter((m) => m.status !== 'sent').length} not sent), server ${server.length}`;
  if (regular.length < count)
    return {
      rule: 'outbox-delivers',
      message: `the server has ${regular.length} of the ${count} messages: sends of ${user} were lost (${summary})`,
    };
  const phantom = mine.filter((m) => m.status === 'sent' && !ids.has(m.id));
  if (phantom.length)
    return {
      rule: 'ack-after-store',
      message: `${phantom.length} message(s) shown as sent that the server never stored, e.g. ${JSON.stringify(phantom[0])}`,
    };
  const missing = server.filter((m) => !have.has(m.id));
  if (missing.length) {
    const others = missing.filter((m) => m.user_id !== user);
    return others.length
      ? {
          rule: 'gap-filled',
          message: `${others.length} message(s) of others the client never got, seqs ${others.map((m) => m.seq).join(',')} (${summary})`,
        }
      : { rule: 'outbox-delivers', message: `${missing.length} own message(s) missing from the client (${summary})` };
  }
  const seqs = mine.map((m) => m.seq);
  if (new Set(mine.map((m) => m.id)).size !== mine.length || new Set(seqs).size !== seqs.length)
    return { rule: 'once', message: `a message shown twice (${summary})` };
  if (mine.some((m) => m.status !== 'sent'))
    return { rule: 'outbox-drains', message: `sends still pending (${summary})` };
  if (seqs.some((s, i) => i > 0 && s < (seqs[i - 1] as number)))
    return { rule: 'seq-order', message: `not in seq order: ${seqs.join(',')}` };
  const view = (m: Json) => `${m.seq}:${m.id}:${m.text}`;
  const differs = mine.findIndex((m, k) => view(m) !== view(server[k]));
  if (differs >= 0)
    return {
      rule: 'same-as-server',
      message: `message ${differs} differs: client ${view(mine[differs])}, server ${view(server[differs])}`,
    };
  return null;
}

/** Run one SDK scenario through the adapter `adapterCommand` starts (adapter.ts), in an app of its own. */
export function runSdk(s: Scenario, target: Target, adapterCommand: string): Promise<Outcome> {
  const wait = target.waitMs ?? 10_000;
  return outcome('sdk', s, async () => {
    const app = await setUp(s, target);
    const adapter = new Adapter(adapterCommand);
    const users = new Map<string, string>();
    const pending: Promise<unknown>[] = [];
    try {
      await eachStep(s.steps, async (step) => {
        const base = { client: step.client, cid: step.cid };
        switch (step.op) {
          case 'connect':
            users.set(step.client, step.user);
            await adapter.request('connect', {
              client: step.client,
              url: target.url,
              api_key: app.apiKey,
              user: step.user,
              token: await app.token(step.user),
            });
            break;
          case 'watch':
            await adapter.request('watch', base);
            break;
          case 'send': {
            const sent = await adapter.request('send', { ...base, text: step.text }).then(
              (r) => ({ ok: true as const, seq: r.seq as number }),
              (e: Error) => ({ ok: false as const, error: e }),
            );
            if (step.error) {
              const code = sent.ok ? null : sent.error instanceof AdapterError ? sent.error.code : sent.error.message;
              check(!sent.ok && (step.error as string[]).includes(code as string), 'refused-send-fails-typed', () =>
                sent.ok
                  ? `the send succeeded (seq ${sent.seq}); it must fail with ${step.error.join(' or ')}`
                  : `it failed with ${code}; expected ${step.error.join(' or ')}`,
              );
            } else {
              check(sent.ok && typeof sent.seq === 'number' && sent.seq > 0, 'send-is-stored', () =>
                sent.ok ? `the send answered seq ${sent.seq}` : `the send failed: ${sent.error.message}`,
              );
            }
            break;
          }
          case 'send_many':
            for (let n = 1; n <= step.count; n++) {
              const args = { ...base, text: `${step.prefix}${n}` };
              if (step.wait === false) pending.push(adapter.request('send', { ...args, wait: false }).catch(() => {}));
              else
                await adapter.request('send', args).catch((e: Error) => {
                  throw new StepFailure('send-is-stored', `${args.text}: ${e.message}`);
                });
            }
            break;
          case 'others_send':
            for (let n = 1; n <= step.count; n++) {
              const r = await app.call('POST', `/v1/channels/${step.cid}/messages`, step.as, {
                text: `${step.prefix}${n}`,
              });
              check(r.status === 200, 'setup', () => `sending as ${step.as}: ${r.status} ${JSON.stringify(r.body)}`);
            }
            break;
          case 'cut':
            await adapter.request('cut', { client: step.client });
            break;
          case 'restore':
            await adapter.request('restore', { client: step.client });
            break;
          case 'mark_read':
            await adapter.request('mark_read', base);
            break;
          case 'expect_same_as_server': {
            const user = users.get(step.client) as string;
            const viewer = (s.channels.find((c) => c.cid === step.cid)?.members[0] ?? user) as string;
            let last: { rule: string; message: string } | null = null;
            const end = Date.now() + wait * 2;
            for (;;) {
              const server = await history(app, step.cid, viewer);
              const r = await adapter.request('view', base);
              // A send the server refused may stay in view as failed (to retry or delete): not counted.
              const mine = (r.messages as Viewed[]).filter((m) => m.status !== 'failed');
              last = diagnose(user, mine, server, step.count);
              if (!last) break;
              if (Date.now() > end) throw new StepFailure(last.rule, last.message);
              await sleep(100);
            }
            break;
          }
          case 'expect_unread': {
            let seen: unknown;
            await waitFor(
              async () => {
                seen = (await adapter.request('unread', base)).count;
                return seen === step.count;
              },
              wait,
              'unread-count',
              () => `unread count ${JSON.stringify(seen)}, expected ${step.count}`,
            );
            break;
          }
          default:
            throw new StepFailure('scenario', `an operation this runner does not know: ${step.op}`);
        }
      });
      await Promise.all(pending);
    } finally {
      await adapter.close();
    }
  });
}

/**
 * Every scenario of the kit (or those named in `only`): wire, then SDK if an adapter is given.
 * `kit` is one already read (the command reads it once to check `only` against it); without it
 * the kit of `dir` is read.
 */
export async function runKit(
  target: Target,
  opts: { adapter?: string; only?: string[]; kit?: Kit; dir?: string; onOutcome?: (o: Outcome) => void } = {},
): Promise<Outcome[]> {
  const kit = opts.kit ?? loadKit(opts.dir);
  const wanted = (s: Scenario) => !opts.only?.length || opts.only.includes(s.name);
  const out: Outcome[] = [];
  const report = (o: Outcome) => {
    out.push(o);
    opts.onOutcome?.(o);
  };
  for (const s of kit.wire.filter(wanted)) report(await runWire(s, target));
  if (opts.adapter) for (const s of kit.sdk.filter(wanted)) report(await runSdk(s, target, opts.adapter));
  return out;
}

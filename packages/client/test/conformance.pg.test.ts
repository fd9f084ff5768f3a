/**
 * The conformance kit (conformance/README.md) against a real server: every `wire/*.json`
 * scenario through a bare WebSocket and HTTP (the reference wire runner), and every
 * `sdk/*.json` scenario through the TypeScript SDK (the reference SDK runner). A runner in
 * another language does what this file does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SocketFactory, SocketLike } from '../src/connection.js';
import { type Channel, ChatClient, type LocalMessage } from '../src/index.js';
import { type Harness, serverHistory, startHarness, type TestApp, until } from './setup.js';

const KIT = path.resolve(import.meta.dirname, '../../../conformance');
const WAIT_MS = 10_000;
type Json = any;
interface Scenario {
  name: string;
  description: string;
  users: string[];
  channels: { cid: string; members: string[] }[];
  steps: Json[];
}
const load = (kind: 'wire' | 'sdk'): Scenario[] =>
  readdirSync(path.join(KIT, kind))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(KIT, kind, f), 'utf8')));

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100 });
  base = await h.listen();
});
afterAll(() => h?.close());

/** A fresh app with the scenario's users and channels (conformance/README.md, "Running a scenario"). */
async function setUp(s: Scenario): Promise<TestApp> {
  const app = await h.createApp(`conformance ${s.name}`);
  await h.users(
    app,
    s.users.map((id) => ({ id, name: id })),
  );
  for (const c of s.channels) {
    const [type, id] = c.cid.split(':') as [string, string];
    const r = await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.server(),
      payload: { type, id, members: c.members, created_by: c.members[0] },
    });
    if (r.status !== 200) throw new Error(`setting up ${c.cid}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return app;
}

// ---- values and patterns ------------------------------------------------------------------

function fill(v: Json, saved: Map<string, Json>): Json {
  if (typeof v === 'string') {
    const whole = /^\$\{(\w+)\}$/.exec(v);
    if (whole) return saved.get(whole[1] as string);
    return v.replace(/\$\{(\w+)\}/g, (_, k) => String(saved.get(k)));
  }
  if (Array.isArray(v)) return v.map((x) => fill(x, saved));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, saved)]));
  return v;
}

/** Whether `actual` matches `pattern`; saves `$save:` values into `into` only on a whole match. */
function matches(pattern: Json, actual: Json, saved: Map<string, Json>, into = new Map<string, Json>()): boolean {
  if (typeof pattern === 'string' && pattern.startsWith('$')) {
    if (pattern === '$any') return actual !== undefined;
    if (pattern === '$string') return typeof actual === 'string';
    if (pattern === '$number') return typeof actual === 'number';
    if (pattern.startsWith('$save:')) {
      into.set(pattern.slice(6), actual);
      return actual !== undefined;
    }
    if (pattern.startsWith('$one_of:')) return pattern.slice(8).split(',').includes(actual);
    if (pattern.startsWith('${')) return matches(fill(pattern, saved), actual, saved, into);
  }
  if (Array.isArray(pattern))
    return (
      Array.isArray(actual) &&
      actual.length === pattern.length &&
      pattern.every((p, i) => matches(p, actual[i], saved, into))
    );
  if (pattern && typeof pattern === 'object')
    return (
      !!actual &&
      typeof actual === 'object' &&
      Object.entries(pattern).every(([k, p]) => matches(p, actual[k], saved, into))
    );
  return pattern === actual;
}

function matchSave(pattern: Json, actual: Json, saved: Map<string, Json>): boolean {
  const into = new Map<string, Json>();
  if (!matches(pattern, actual, saved, into)) return false;
  for (const [k, v] of into) saved.set(k, v);
  return true;
}

const consecutive = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1);
const pick = (o: Json, dotted: string) => dotted.split('.').reduce((x, k) => x?.[k], o);

// ---- the wire runner ----------------------------------------------------------------------

interface Conn {
  ws: WebSocket;
  frames: Json[];
  /** Index after the last frame an `expect` matched. */
  cursor: number;
  closed: Promise<number>;
}

async function runWire(s: Scenario) {
  const app = await setUp(s);
  const saved = new Map<string, Json>();
  const conns = new Map<string, Conn>();
  const tokenOf = async (as: string) => (as === 'server' ? app.token(null) : app.token(as));
  try {
    for (const [i, raw] of s.steps.entries()) {
      const step = fill(raw, saved);
      const where = `step ${i} ${JSON.stringify(raw).slice(0, 160)}`;
      if ('open' in step) {
        const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/ws?api_key=${app.apiKey}`);
        const c: Conn = {
          ws,
          frames: [],
          cursor: 0,
          closed: new Promise((r) => ws.once('close', (code) => r(code))),
        };
        ws.on('message', (d) => c.frames.push(JSON.parse(String(d))));
        await new Promise((r, j) => {
          ws.once('open', r);
          ws.once('error', j);
        });
        ws.send(JSON.stringify({ type: 'auth', token: step.token ?? (await app.token(step.user)) }));
        conns.set(step.open, c);
        if (step.expect_close !== undefined) {
          const code = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r('open'), WAIT_MS))]);
          expect(code, where).toBe(step.expect_close);
        } else {
          await until(() => c.frames.some((f) => f.type === 'hello'), WAIT_MS, `${where}: hello`);
        }
      } else if ('send' in step) {
        conns.get(step.send)?.ws.send(JSON.stringify(step.frame));
      } else if ('send_text' in step) {
        conns.get(step.send_text)?.ws.send(step.text);
      } else if ('expect' in step || 'expect_in_order' in step) {
        const c = conns.get(step.expect ?? step.expect_in_order) as Conn;
        for (const pattern of step.frames ?? [step.frame]) {
          const found = await until(
            () => {
              for (let k = c.cursor; k < c.frames.length; k++) if (matchSave(pattern, c.frames[k], saved)) return k + 1;
              return 0;
            },
            WAIT_MS,
            `${where}: a frame like ${JSON.stringify(pattern)}; got ${JSON.stringify(c.frames.slice(c.cursor)).slice(0, 600)}`,
          );
          c.cursor = found;
        }
      } else if ('count' in step) {
        const c = conns.get(step.count) as Conn;
        const hits = c.frames.filter((f) => matches(step.frame, f, saved));
        expect(hits.length, `${where}: ${JSON.stringify(hits).slice(0, 400)}`).toBe(step.equals);
        if (step.seqs_consecutive) expect(consecutive(hits.map((f) => f.seq)), where).toBe(true);
      } else if ('cut' in step) {
        conns.get(step.cut)?.ws.terminate();
      } else if ('rest' in step) {
        const r = step.rest;
        const res = await fetch(`${base}${r.path}`, {
          method: r.method,
          headers: {
            'x-api-key': app.apiKey,
            authorization: `Bearer ${await tokenOf(r.as)}`,
            ...(r.body ? { 'content-type': 'application/json' } : {}),
          },
          ...(r.body ? { body: JSON.stringify(r.body) } : {}),
        });
        const body = await res.json().catch(() => null);
        expect(res.status, `${where}: ${JSON.stringify(body)}`).toBe(step.status);
        if (step.body)
          expect(matchSave(step.body, body, saved), `${where}: ${JSON.stringify(body).slice(0, 800)}`).toBe(true);
        for (const [name, dotted] of Object.entries<string>(step.save ?? {})) saved.set(name, pick(body, dotted));
        if (step.seqs_consecutive)
          expect(consecutive((body[step.seqs_consecutive] as Json[]).map((e) => e.seq)), where).toBe(true);
      } else {
        throw new Error(`${where}: a step this runner does not know`);
      }
    }
  } finally {
    for (const c of conns.values()) c.ws.terminate();
  }
}

// ---- the SDK runner -----------------------------------------------------------------------

/** A WebSocket for the SDK whose network the runner can cut and restore (`cut`, `restore`). */
function gatedSockets() {
  let blocked = false;
  const live = new Set<WebSocket>();
  class Gated implements SocketLike {
    private ws: WebSocket | null = null;
    readyState = 0;
    protocol = '';
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(url: string, protocols?: string[]) {
      if (blocked) {
        // No network: the attempt fails as a refused connection does.
        setTimeout(() => {
          this.readyState = 3;
          this.onerror?.(new Error('network is down'));
          this.onclose?.({ code: 1006, reason: '' });
        }, 5);
        return;
      }
      const ws = new WebSocket(url, protocols);
      this.ws = ws;
      live.add(ws);
      ws.onopen = (e) => {
        this.readyState = 1;
        this.protocol = ws.protocol;
        this.onopen?.(e);
      };
      ws.onmessage = (e) => this.onmessage?.({ data: e.data });
      ws.onerror = (e) => this.onerror?.(e);
      ws.onclose = (e) => {
        live.delete(ws);
        this.readyState = 3;
        this.onclose?.({ code: e.code, reason: String(e.reason) });
      };
    }
    send(data: string) {
      this.ws?.send(data);
    }
    close(code?: number, reason?: string) {
      this.readyState = 2;
      this.ws?.close(code, reason);
    }
  }
  return {
    Factory: Gated as unknown as SocketFactory,
    cut() {
      blocked = true;
      for (const ws of live) ws.terminate();
    },
    restore() {
      blocked = false;
    },
  };
}

async function runSdk(s: Scenario) {
  const app = await setUp(s);
  const clients = new Map<string, { client: ChatClient; net: ReturnType<typeof gatedSockets> }>();
  const channel = (name: string, cid: string): Channel => {
    const [type, id] = cid.split(':') as [string, string];
    return (clients.get(name) as { client: ChatClient }).client.channel(type, id);
  };
  const pending: Promise<unknown>[] = [];
  try {
    for (const [i, step] of s.steps.entries()) {
      const where = `step ${i} ${JSON.stringify(step).slice(0, 160)}`;
      switch (step.op) {
        case 'connect': {
          const net = gatedSockets();
          const client = new ChatClient({
            url: base,
            apiKey: app.apiKey,
            WebSocket: net.Factory,
            transport: 'websocket',
            backoffMinMs: 20,
            backoffMaxMs: 300,
            pingIntervalMs: 2_000,
            pongTimeoutMs: 2_000,
          });
          await client.connectUser({ id: step.user }, () => app.token(step.user));
          clients.set(step.client, { client, net });
          break;
        }
        case 'watch':
          await channel(step.client, step.cid).watch();
          break;
        case 'send': {
          const sent = channel(step.client, step.cid).sendMessage({ text: step.text });
          if (!step.error) {
            expect((await sent).seq, where).toBeGreaterThan(0);
            break;
          }
          const err = await sent.then(
            () => null,
            (e) => e,
          );
          expect(step.error, `${where}: ${err}`).toContain(err?.code);
          break;
        }
        case 'send_many':
          for (let n = 1; n <= step.count; n++) {
            const p = channel(step.client, step.cid).sendMessage({ text: `${step.prefix}${n}` });
            if (step.wait === false) pending.push(p.catch(() => undefined));
            else await p;
          }
          break;
        case 'others_send':
          for (let n = 1; n <= step.count; n++) {
            const r = await h.call({
              method: 'POST',
              url: `/v1/channels/${step.cid}/messages`,
              headers: await app.user(step.as),
              payload: { text: `${step.prefix}${n}` },
            });
            expect(r.status, where).toBe(200);
          }
          break;
        case 'cut':
          clients.get(step.client)?.net.cut();
          await until(() => clients.get(step.client)?.client.state.get().connection !== 'online', WAIT_MS, where);
          break;
        case 'restore':
          clients.get(step.client)?.net.restore();
          break;
        case 'mark_read':
          await channel(step.client, step.cid).markRead();
          break;
        case 'expect_same_as_server': {
          const viewer = (s.channels.find((c) => c.cid === step.cid) as { members: string[] }).members[0] as string;
          const ch = channel(step.client, step.cid);
          const view = (m: LocalMessage | { id: string; seq: number; text: string }) => `${m.seq}:${m.id}:${m.text}`;
          let last = '';
          try {
            await until(
              async () => {
                const server = await serverHistory(h, app, step.cid, viewer);
                // A send the server refused stays in the view as `failed` (to retry or delete): never stored.
                const mine = (ch.state?.messages ?? []).filter((m) => m.status !== 'failed');
                last = `client ${mine.length} (${mine.filter((m) => m.status !== 'sent').length} not sent), server ${server.length}`;
                return (
                  server.filter((m) => m.type === 'regular').length === step.count &&
                  mine.length === server.length &&
                  mine.every((m, k) => m.status === 'sent' && view(m) === view(server[k] as LocalMessage))
                );
              },
              WAIT_MS * 2,
              `${where}: the client's view equal to the server's`,
            );
          } catch (e) {
            throw new Error(`${(e as Error).message}: ${last}`);
          }
          const seqs = (ch.state?.messages ?? []).filter((m) => m.status !== 'failed').map((m) => m.seq);
          expect(new Set(seqs).size, where).toBe(seqs.length);
          expect(
            [...seqs].sort((a, b) => a - b),
            where,
          ).toEqual(seqs);
          break;
        }
        case 'expect_unread':
          await until(() => channel(step.client, step.cid).state?.unreadCount === step.count, WAIT_MS, where);
          break;
        default:
          throw new Error(`${where}: an operation this runner does not know`);
      }
    }
    await Promise.all(pending);
  } finally {
    for (const { client } of clients.values()) await client.disconnectUser();
  }
}

describe('conformance kit: wire scenarios, over a bare WebSocket', () => {
  for (const s of load('wire')) it(`${s.name}: ${s.description}`, () => runWire(s), 60_000);
});

describe('conformance kit: SDK scenarios, through @parley/client', () => {
  for (const s of load('sdk')) it(`${s.name}: ${s.description}`, () => runSdk(s), 90_000);
});

/**
 * Shared fixtures for the messaging tests: one app with named users, REST calls as any of
 * them (or as the server), channels, sockets that are closed at the end.
 */
import { uuidv7 } from '@parley/protocol';
import { expect } from 'vitest';
import { type Harness, type TestApp, TestSocket } from '../harness.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface UserSpec {
  id: string;
  username?: string;
  name?: string;
  role?: 'user' | 'moderator' | 'admin';
}

export interface World {
  h: Harness;
  app: TestApp;
  /** REST as `user` (null = server token). */
  rest<T = any>(
    user: string | null,
    method: Method,
    url: string,
    payload?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Create a channel as `owner` with `members`; returns its cid. */
  channel(
    owner: string,
    type: 'group' | 'public' | 'announcement' | 'dm',
    id: string,
    members: string[],
  ): Promise<string>;
  /** Send over REST and expect 200; returns the message. */
  send(user: string, cid: string, body: Record<string, unknown> | string): Promise<any>;
  /** The channel's last_seq, as a member (or the server) sees it. */
  lastSeq(cid: string): Promise<number>;
  /** A connected, authenticated socket; closed by `closeSockets`. */
  socket(user: string): Promise<TestSocket>;
  closeSockets(): Promise<void>;
}

let worlds = 0;

export async function makeWorld(h: Harness, users: UserSpec[]): Promise<World> {
  const app = await h.createApp(`messaging-${worlds++}`);
  await h.users(
    app,
    users.map((u) => ({
      name: u.name ?? u.id,
      username: u.username ?? u.id,
      ...(u.role ? { role: u.role } : {}),
      id: u.id,
    })),
  );
  const headers = new Map<string, Record<string, string>>();
  const sockets: TestSocket[] = [];
  let url: string | null = null;

  const hdr = async (user: string | null) => {
    const key = user ?? '\0server';
    let v = headers.get(key);
    if (!v) {
      v = user === null ? await app.server() : await app.user(user);
      headers.set(key, v);
    }
    return v;
  };

  const w: World = {
    h,
    app,
    async rest(user, method, path, payload) {
      return h.call({
        method,
        url: path,
        headers: await hdr(user),
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });
    },
    async channel(owner, type, id, members) {
      const r = await w.rest(owner, 'POST', '/v1/channels', { type, ...(type === 'dm' ? {} : { id }), members });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.channel.cid as string;
    },
    async send(user, cid, body) {
      const payload = typeof body === 'string' ? { text: body } : body;
      const r = await w.rest(user, 'POST', `/v1/channels/${cid}/messages`, payload);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.message;
    },
    async lastSeq(cid) {
      const r = await w.rest(null, 'GET', `/v1/channels/${cid}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.channel.last_seq as number;
    },
    async socket(user) {
      url ??= await h.listen();
      const s = await TestSocket.connect(url, app, user);
      sockets.push(s);
      return s;
    },
    async closeSockets() {
      const open = sockets.splice(0).filter((s) => !s.closed);
      for (const s of open) s.close();
      await Promise.all(open.map((s) => s.waitClose().catch(() => undefined)));
    },
  };
  return w;
}

export const newId = () => uuidv7();

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Expect a WS reply to be an error with this code. */
export function expectWsError(reply: any, code: string): void {
  expect(reply, JSON.stringify(reply)).toMatchObject({ type: 'reply', ok: false, error: { code } });
}

/** Expect a REST answer to be an error with this status and code. */
export function expectError(r: { status: number; body: any }, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body?.error?.code).toBe(code);
}

/** Every message of a channel, oldest first, by paging back from the newest. */
export async function allMessages(w: World, user: string | null, cid: string, limit = 200): Promise<any[]> {
  const out: any[] = [];
  let before: number | undefined;
  for (;;) {
    const q = before === undefined ? `limit=${limit}` : `limit=${limit}&before=${before}`;
    const r = await w.rest(user, 'GET', `/v1/channels/${cid}/messages?${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const page = r.body.messages as any[];
    out.unshift(...page);
    if (page.length < limit) return out;
    before = page[0].seq;
  }
}

/** Every reply of a thread, oldest first. */
export async function allReplies(w: World, user: string | null, parentId: string, limit = 200): Promise<any[]> {
  const out: any[] = [];
  let after = 0;
  for (;;) {
    const r = await w.rest(user, 'GET', `/v1/messages/${parentId}/replies?limit=${limit}&after=${after}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const page = r.body.messages as any[];
    out.push(...page);
    if (page.length < limit) return out;
    after = page.at(-1).seq;
  }
}

/** Every logged event of a channel after `after`, following has_more. */
export async function allEvents(w: World, user: string | null, cid: string, after = 0): Promise<any[]> {
  const out: any[] = [];
  for (;;) {
    const r = await w.rest(user, 'GET', `/v1/channels/${cid}/events?after=${after}&limit=1000`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.reload).toBe(false);
    out.push(...r.body.events);
    if (!r.body.has_more) return out;
    after = r.body.events.at(-1).seq;
  }
}

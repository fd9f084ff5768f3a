/**
 * Helpers for the channel, membership, query and read-state tests: a per-user REST client
 * over the harness (`fastify.inject`), an app with a small cast of users, and assertions on
 * the error shape and on the channel's event log.
 */
import { ERRORS, type ErrorCode } from '@parley/protocol';
import { expect } from 'vitest';
import type { Harness, TestApp } from '../harness.js';

export type Res = { status: number; body: any };

/** The server token, as an actor name. */
export const SERVER = Symbol('server');

/** REST calls as one user (or the server), each answering `{status, body}`. */
export function as(h: Harness, app: TestApp, who: string | typeof SERVER) {
  const headers = () => (who === SERVER ? app.server() : app.user(who));
  const req = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<Res> =>
    h.call({ method, url, headers: await headers(), ...(payload === undefined ? {} : { payload: payload as object }) });
  return {
    get: (url: string) => req('GET', url),
    post: (url: string, payload: unknown = {}) => req('POST', url, payload),
    patch: (url: string, payload: unknown) => req('PATCH', url, payload),
    del: (url: string) => req('DELETE', url),
    create: (body: Record<string, unknown>) => req('POST', '/v1/channels', body),
    channel: (cid: string) => req('GET', `/v1/channels/${cid}`),
    update: (cid: string, body: Record<string, unknown>) => req('PATCH', `/v1/channels/${cid}`, body),
    members: (cid: string, body: { add?: string[]; remove?: string[] }) =>
      req('POST', `/v1/channels/${cid}/members`, body),
    setMember: (cid: string, userId: string, body: Record<string, unknown>) =>
      req('PATCH', `/v1/channels/${cid}/members/${userId}`, body),
    join: (cid: string) => req('POST', `/v1/channels/${cid}/join`, {}),
    leave: (cid: string) => req('POST', `/v1/channels/${cid}/leave`, {}),
    send: (cid: string, text: string, extra: Record<string, unknown> = {}) =>
      req('POST', `/v1/channels/${cid}/messages`, { text, ...extra }),
    history: (cid: string, qs = '') => req('GET', `/v1/channels/${cid}/messages${qs ? `?${qs}` : ''}`),
    events: (cid: string, after = 0) => req('GET', `/v1/channels/${cid}/events?after=${after}`),
    query: (body: Record<string, unknown> = {}) => req('POST', '/v1/channels/query', body),
    read: (cid: string, seq: number) => req('POST', `/v1/channels/${cid}/read`, { seq }),
    unread: (cid: string, messageId: string) => req('POST', `/v1/channels/${cid}/unread`, { message_id: messageId }),
    me: () => req('GET', '/v1/me'),
    deleteMessage: (id: string) => req('DELETE', `/v1/messages/${id}`),
    react: (id: string, type = 'like') => req('POST', `/v1/messages/${id}/reactions`, { type }),
  };
}
export type Actor = ReturnType<typeof as>;

/** Assert a 200 and return the body (the failure message shows what came back instead). */
export function ok(r: Res): any {
  expect(r.status, `expected 200, got ${r.status} ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

/** Assert `{error:{code,message}}` with the catalogue status of `code`. */
export function expectError(r: Res, code: ErrorCode): void {
  expect(r.body, `expected ${code}, got ${r.status} ${JSON.stringify(r.body)}`).toMatchObject({
    error: { code, message: expect.any(String) },
  });
  expect(r.status).toBe(ERRORS[code].status);
}

/** The usual cast. Each user's username and display name equal their id. */
export const CAST = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;

/** A fresh app (tenant) with the cast registered, and an actor for each of them. */
export async function world(h: Harness, extra: { id: string; role?: string }[] = []) {
  const app = await h.createApp();
  await h.users(app, [
    ...CAST.map((id) => ({ id, name: id, username: id })),
    ...extra.map((u) => ({ id: u.id, name: u.id, username: u.id, ...(u.role ? { role: u.role } : {}) })),
  ]);
  const a = (who: string | typeof SERVER) => as(h, app, who);
  return {
    app,
    as: a,
    server: a(SERVER),
    alice: a('alice'),
    bob: a('bob'),
    carol: a('carol'),
    dave: a('dave'),
    erin: a('erin'),
  };
}

/** Every logged event of a channel (as a member or staff sees them), checking seqs are 1..n with no gap. */
export async function eventLog(actor: Actor, cid: string): Promise<any[]> {
  const body = ok(await actor.events(cid, 0));
  const seqs = body.events.map((e: any) => e.seq);
  expect(seqs, 'event seqs are contiguous from 1').toEqual(seqs.map((_: number, i: number) => i + 1));
  expect(body.last_seq).toBe(seqs.length);
  return body.events;
}

/** Short summary of events for exact comparisons: `type` plus the one field that identifies it. */
export function summary(events: any[]): string[] {
  return events.map((e) => {
    if (e.type === 'member.added' || e.type === 'member.updated') return `${e.seq} ${e.type} ${e.member.user_id}`;
    if (e.type === 'member.removed') return `${e.seq} ${e.type} ${e.user_id}`;
    if (e.type === 'message.new') return `${e.seq} ${e.type} ${e.message.type}: ${e.message.text}`;
    return `${e.seq} ${e.type}`;
  });
}

/** Cids of a query answer, in order. */
export const cids = (r: Res): string[] => ok(r).channels.map((c: any) => c.cid);

/**
 * Let the clock move on (a few milliseconds) so the next write gets a later timestamp than the
 * last one. Used where a test needs a strict order of times; nothing asserts on durations.
 */
export async function tick(): Promise<void> {
  const start = Date.now();
  while (Date.now() <= start + 1) await new Promise((r) => setTimeout(r, 2));
}

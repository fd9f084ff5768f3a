/**
 * Helpers for the accounts tests: requests through `inject` that keep the response headers
 * (for Set-Cookie), a signed-in account as an actor that sends its cookie, and factories for
 * accounts and workspaces.
 */
import { randomBytes } from 'node:crypto';
import { ERRORS, type ErrorCode } from '@parley/protocol';
import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import type { Harness } from '../harness.js';

export type Res = { status: number; body: any; headers: Record<string, unknown> };

/** `inject` with the body parsed and the headers kept. */
export async function send(h: Harness, opts: InjectOptions): Promise<Res> {
  const r = await h.app.inject(opts);
  let body: any;
  try {
    body = r.body ? JSON.parse(r.body) : undefined;
  } catch {
    body = r.body;
  }
  return { status: r.statusCode, body, headers: r.headers as Record<string, unknown> };
}

/** The Set-Cookie header of a response (one cookie is all these routes set). */
export function setCookie(r: Res): string {
  const v = r.headers['set-cookie'];
  const one = Array.isArray(v) ? v[0] : v;
  expect(typeof one, `expected a Set-Cookie header, got ${JSON.stringify(r.headers)}`).toBe('string');
  return one as string;
}

/** The `name=value` pair of a Set-Cookie header, as a browser sends it back in `Cookie`. */
export const cookiePair = (header: string) => header.split(';')[0] as string;

/** Assert a 200 and return the body. */
export function ok(r: { status: number; body: any }): any {
  expect(r.status, `expected 200, got ${r.status} ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
}

/** Assert `{error:{code,message}}` with the catalogue status of `code`. */
export function expectError(r: { status: number; body: any }, code: ErrorCode): void {
  expect(r.body, `expected ${code}, got ${r.status} ${JSON.stringify(r.body)}`).toMatchObject({
    error: { code, message: expect.any(String) },
  });
  expect(r.status).toBe(ERRORS[code].status);
}

export const PASSWORD = 'correct horse battery';

/** A fresh, unique email. */
export const email = (name = 'user') => `${name}.${randomBytes(4).toString('hex')}@example.com`;

/** The origin of the pages `inject` requests come from (its default Host is localhost:80). */
export const ORIGIN = 'http://localhost';

/**
 * REST calls as a browser holding `cookie` (or none) on the server's own page: JSON bodies,
 * the cookie in `Cookie`, and `Origin`, as browsers send it.
 */
export function browser(h: Harness, cookie: string | null) {
  const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    send(h, {
      method,
      url,
      headers: cookie ? { cookie, origin: ORIGIN } : { origin: ORIGIN },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  return {
    cookie,
    get: (url: string) => req('GET', url),
    post: (url: string, payload: unknown = {}) => req('POST', url, payload),
    patch: (url: string, payload: unknown) => req('PATCH', url, payload),
    del: (url: string) => req('DELETE', url),
    me: () => req('GET', '/v1/auth/me'),
    workspaces: () => req('GET', '/v1/workspaces'),
    createWorkspace: (name: string) => req('POST', '/v1/workspaces', { name }),
    session: (id: string) => req('POST', `/v1/workspaces/${id}/session`, {}),
    members: (id: string) => req('GET', `/v1/workspaces/${id}/members`),
    setRole: (id: string, accountId: string, role: string) =>
      req('PATCH', `/v1/workspaces/${id}/members/${accountId}`, { role }),
    invite: (id: string, body: Record<string, unknown> = {}) => req('POST', `/v1/workspaces/${id}/invites`, body),
    invites: (id: string) => req('GET', `/v1/workspaces/${id}/invites`),
    revoke: (id: string, inviteId: string) => req('DELETE', `/v1/workspaces/${id}/invites/${inviteId}`),
    accept: (token: string) => req('POST', `/v1/invites/${encodeURIComponent(token)}/accept`, {}),
    signOut: () => req('POST', '/v1/auth/signout', {}),
    signOutEverywhere: () => req('POST', '/v1/auth/signout-everywhere', {}),
  };
}
export type Browser = ReturnType<typeof browser> & { account: { id: string; email: string; name: string } };

export const signUpRaw = (h: Harness, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  send(h, { method: 'POST', url: '/v1/auth/signup', payload: body, headers });

export const signInRaw = (h: Harness, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  send(h, { method: 'POST', url: '/v1/auth/signin', payload: body, headers });

/** Sign up a new account and return a browser holding its session cookie. */
export async function buildAccount(h: Harness, name = 'Alice', mail = email(name.toLowerCase())): Promise<Browser> {
  const r = await signUpRaw(h, { email: mail, password: PASSWORD, name });
  const body = ok(r);
  return Object.assign(browser(h, cookiePair(setCookie(r))), { account: body.account });
}

/** Sign in again as an existing account: a second, independent session. */
export async function signInAgain(h: Harness, who: Browser): Promise<Browser> {
  const r = await signInRaw(h, { email: who.account.email, password: PASSWORD });
  ok(r);
  return Object.assign(browser(h, cookiePair(setCookie(r))), { account: who.account });
}

/** A new workspace owned by `owner`; returns its wire object. */
export async function buildWorkspace(owner: Browser, name = 'Acme'): Promise<any> {
  return ok(await owner.createWorkspace(name)).workspace;
}

/** Invite `who` into a workspace through a fresh invite made by `by`. */
export async function join(by: Browser, workspaceId: string, who: Browser): Promise<any> {
  const inv = ok(await by.invite(workspaceId));
  return ok(await who.accept(inv.token)).workspace;
}

/** Chat API headers from a workspace session. */
export const chatHeaders = (s: { api_key: string; token: string }) => ({
  'x-api-key': s.api_key,
  authorization: `Bearer ${s.token}`,
});

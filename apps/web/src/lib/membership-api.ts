/**
 * The web app's calls for guests, join requests, joining by email domain and the transfer of
 * ownership (docs/protocol/accounts.md, "Guests", "Join policies and requests", "Transfer of ownership").
 * Same rules as `accounts` in api.ts: same origin, cookies, a JSON body on every write.
 */
import type { JoinPage, JoinRequest, Workspace, WorkspaceMember } from '@parley/protocol';
import { ApiError } from './api.js';

async function call<T>(method: 'GET' | 'POST' | 'PATCH', path: string, body?: object): Promise<T> {
  const json = method !== 'GET';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'include',
      headers: json
        ? { 'content-type': 'application/json', accept: 'application/json' }
        : { accept: 'application/json' },
      ...(json ? { body: JSON.stringify(body ?? {}) } : {}),
    });
  } catch {
    throw new ApiError('DISCONNECTED', 'Cannot reach the server. Check your connection and try again.', 0);
  }
  const parsed = (await res.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string; details?: unknown } }
    | undefined;
  if (res.ok) return parsed as T;
  const err = parsed?.error;
  throw new ApiError(err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${res.status}`, res.status, err?.details);
}

const enc = encodeURIComponent;

export const membership = {
  /** A workspace's join page; 404 when it takes neither requests nor domain joins. */
  joinPage: (id: string) => call<{ join: JoinPage }>('GET', `/v1/join/${enc(id)}`).then((r) => r.join),
  /** Ask to join (`request`) or join (`domain`). */
  join: (id: string) => call<{ request: JoinRequest } | { workspace: Workspace }>('POST', `/v1/join/${enc(id)}`, {}),
  requests: (id: string) =>
    call<{ requests: JoinRequest[] }>('GET', `/v1/workspaces/${enc(id)}/join-requests`).then((r) => r.requests),
  decide: (id: string, requestId: string, approve: boolean) =>
    call<{ request: JoinRequest }>(
      'POST',
      `/v1/workspaces/${enc(id)}/join-requests/${enc(requestId)}/${approve ? 'approve' : 'deny'}`,
      {},
    ).then((r) => r.request),
  /** Move a guest's expiry (owners and admins). */
  updateGuest: (id: string, accountId: string, expiresAt: string) =>
    call<{ member: WorkspaceMember }>('PATCH', `/v1/workspaces/${enc(id)}/guests/${enc(accountId)}`, {
      expires_at: expiresAt,
    }).then((r) => r.member),
  /** Hand ownership to another member (owners): they become owner, you admin. */
  transfer: (id: string, accountId: string) =>
    call<{ members: WorkspaceMember[] }>('POST', `/v1/workspaces/${enc(id)}/transfer`, { account_id: accountId }).then(
      (r) => r.members,
    ),
};

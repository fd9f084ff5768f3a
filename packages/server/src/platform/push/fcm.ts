/**
 * Firebase Cloud Messaging, HTTP v1: a service account's key signs an OAuth2 assertion
 * (RS256 JWT, scope firebase.messaging) that `token_uri` trades for an access token (kept
 * until a minute before it expires), then `POST /v1/projects/{id}/messages:send`.
 */
import { importPKCS8, SignJWT } from 'jose';
import { h2request } from './h2.js';
import type { NativePush, PushResult } from './native.js';

export interface FcmConfig {
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri?: string | undefined;
  endpoint?: string | undefined;
  ca?: string | undefined;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const access = new Map<string, { token: string; until: number }>();

async function accessToken(c: FcmConfig): Promise<string> {
  const tokenUri = c.token_uri ?? 'https://oauth2.googleapis.com/token';
  const key = `${c.client_email}\n${tokenUri}\n${c.private_key}`;
  const kept = access.get(key);
  if (kept && kept.until > Date.now() + 60_000) return kept.token;
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(c.client_email)
    .setAudience(tokenUri)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(await importPKCS8(c.private_key, 'RS256'));
  const res = await h2request(tokenUri, {
    method: 'POST',
    ca: c.ca,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
  });
  if (res.status !== 200) throw new Error(`FCM OAuth2 token: ${res.status} ${res.body.slice(0, 200)}`);
  const got = JSON.parse(res.body) as { access_token: string; expires_in?: number };
  access.set(key, { token: got.access_token, until: Date.now() + (got.expires_in ?? 3600) * 1000 });
  return got.access_token;
}

function errorCodeOf(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { status?: string; details?: { errorCode?: string }[] } }).error;
    return e?.details?.find((d) => d.errorCode)?.errorCode ?? e?.status ?? '';
  } catch {
    return '';
  }
}

export const fcm = (c: FcmConfig): NativePush => ({
  async send(token, n): Promise<PushResult> {
    const bearer = await accessToken(c);
    const base = (c.endpoint ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
    const message = {
      token,
      notification: { title: n.title, body: n.body },
      data: n.data,
      android: {
        collapse_key: n.collapseId,
        priority: 'HIGH',
        notification: { tag: n.collapseId, notification_count: n.badge },
      },
      apns: {
        headers: { 'apns-collapse-id': n.collapseId },
        payload: { aps: { badge: n.badge, 'thread-id': n.collapseKey } },
      },
    };
    const res = await h2request(`${base}/v1/projects/${encodeURIComponent(c.project_id)}/messages:send`, {
      method: 'POST',
      ca: c.ca,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message }),
    });
    if (res.status === 200) return { ok: true };
    const code = errorCodeOf(res.body);
    if (code === 'UNREGISTERED' || (res.status === 404 && code === 'NOT_FOUND'))
      return { ok: false, gone: true, detail: `${res.status} ${code}` };
    if (res.status === 401) access.clear();
    return { ok: false, gone: false, retry: res.status === 429 || res.status >= 500, detail: `${res.status} ${code}` };
  },
});

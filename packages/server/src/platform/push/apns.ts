/**
 * Apple Push Notification service, token-based (a `.p8` key): `POST /3/device/{token}` over
 * HTTP/2 with a provider JWT (ES256, `iss` = team id, `kid` = key id) that is reused for up to
 * 50 minutes (Apple refuses a new one more often than every 20, and an older one than 60).
 */
import { importPKCS8, SignJWT } from 'jose';
import { h2request } from './h2.js';
import type { NativePush, PushResult } from './native.js';

export interface ApnsConfig {
  team_id: string;
  key_id: string;
  private_key: string;
  topic: string;
  production?: boolean | undefined;
  endpoint?: string | undefined;
  ca?: string | undefined;
}

const tokens = new Map<string, { jwt: string; at: number }>();

async function providerToken(c: ApnsConfig, now: number): Promise<string> {
  const key = `${c.team_id}:${c.key_id}:${c.private_key}`;
  const kept = tokens.get(key);
  if (kept && now - kept.at < 50 * 60_000) return kept.jwt;
  const pk = await importPKCS8(c.private_key, 'ES256');
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: c.key_id })
    .setIssuer(c.team_id)
    .setIssuedAt(Math.floor(now / 1000))
    .sign(pk);
  tokens.set(key, { jwt, at: now });
  return jwt;
}

export function apnsBase(c: ApnsConfig): string {
  return (c.endpoint ?? (c.production ? 'https://api.push.apple.com' : 'https://api.sandbox.push.apple.com')).replace(
    /\/+$/,
    '',
  );
}

/** Reasons (in a 400 or 410 body) that mean the device token will never work again. */
const DEAD = new Set(['Unregistered', 'BadDeviceToken', 'DeviceTokenNotForTopic', 'ExpiredToken']);

export const apns = (c: ApnsConfig): NativePush => ({
  async send(token, n): Promise<PushResult> {
    const jwt = await providerToken(c, Date.now());
    const body = {
      aps: {
        alert: { title: n.title, body: n.body },
        badge: n.badge,
        sound: 'default',
        'thread-id': n.collapseKey,
        'mutable-content': 1,
      },
      data: n.data,
    };
    const res = await h2request(`${apnsBase(c)}/3/device/${encodeURIComponent(token)}`, {
      method: 'POST',
      ca: c.ca,
      headers: {
        authorization: `bearer ${jwt}`,
        'apns-topic': c.topic,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        // 64 bytes at most: the key is hashed when longer.
        'apns-collapse-id': n.collapseId,
        'apns-expiration': String(Math.floor(Date.now() / 1000) + 24 * 3600),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    if (res.status === 200) return { ok: true };
    let reason = '';
    try {
      reason = (JSON.parse(res.body) as { reason?: string }).reason ?? '';
    } catch {
      // no JSON body
    }
    if (res.status === 410 || DEAD.has(reason)) return { ok: false, gone: true, detail: `${res.status} ${reason}` };
    return {
      ok: false,
      gone: false,
      retry: res.status === 429 || res.status >= 500,
      detail: `${res.status} ${reason}`,
    };
  },
});

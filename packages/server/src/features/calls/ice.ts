/**
 * ICE servers for `RTCPeerConnection`: the configured STUN URLs, and TURN with a credential
 * of the TURN REST API scheme (draft-uberti-behave-turn-rest, what coturn's
 * `use-auth-secret` checks): username `<expiry unix seconds>:<user id>`, password
 * base64(HMAC-SHA1(shared secret, username)). The TURN server needs no call to us: it
 * recomputes the HMAC with the same secret and refuses a username whose expiry has passed.
 */
import { createHmac } from 'node:crypto';
import type { IceServersResponse } from '@parley/protocol';
import type { CallsConfig } from '../../platform/config.js';

/** The TURN REST API password of `username`. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

export function iceServers(cfg: CallsConfig, userId: string, nowMs: number): IceServersResponse {
  const servers: IceServersResponse['ice_servers'] = [];
  if (cfg.stunUrls.length > 0) servers.push({ urls: cfg.stunUrls });
  if (cfg.turnSecret && cfg.turnUrls.length > 0) {
    const expiry = Math.floor(nowMs / 1000) + cfg.turnTtlSeconds;
    const username = `${expiry}:${userId}`;
    servers.push({ urls: cfg.turnUrls, username, credential: turnPassword(cfg.turnSecret, username) });
    return { ice_servers: servers, expires_at: new Date(expiry * 1000).toISOString() };
  }
  return { ice_servers: servers, expires_at: null };
}

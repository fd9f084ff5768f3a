import { describe, expect, it } from 'vitest';
import { callsFromEnv, defaultConfig } from '../../platform/config.js';
import { formatDuration } from './actions.js';
import { iceServers, turnPassword } from './ice.js';

const d = defaultConfig().calls;

describe('TURN REST API credentials', () => {
  it('match an independent HMAC-SHA1 (openssl dgst -sha1 -hmac … | base64)', () => {
    expect(turnPassword('north-wind', '1700000000:alice')).toBe('Oko4dt8u/EbTRjRUJWQDFm/zTCc=');
  });

  it('expire after the TTL and name the user; no TURN without a secret', () => {
    const cfg = { ...d, turnUrls: ['turn:t.example:3478'], turnSecret: 'north-wind', turnTtlSeconds: 600 };
    const r = iceServers(cfg, 'alice', 1_700_000_000_500);
    expect(r.ice_servers).toEqual([
      {
        urls: ['turn:t.example:3478'],
        username: '1700000600:alice',
        credential: turnPassword('north-wind', '1700000600:alice'),
      },
    ]);
    expect(r.expires_at).toBe(new Date(1_700_000_600_000).toISOString());
    expect(iceServers({ ...cfg, turnSecret: undefined }, 'alice', 0)).toEqual({ ice_servers: [], expires_at: null });
  });
});

describe('calls configuration from the environment', () => {
  it('reads ring time, mesh limit and ICE servers', () => {
    const c = callsFromEnv(
      {
        PARLEY_CALL_RING_SECONDS: '30',
        PARLEY_CALL_MAX_PARTICIPANTS: '6',
        PARLEY_STUN_URLS: 'stun:a.example:3478, stun:b.example:3478',
        PARLEY_TURN_URLS: 'turns:t.example:5349',
        PARLEY_TURN_SECRET: 's',
        PARLEY_TURN_TTL_SECONDS: '120',
      },
      d,
    );
    expect(c).toMatchObject({
      ringTimeoutMs: 30_000,
      maxParticipants: 6,
      stunUrls: ['stun:a.example:3478', 'stun:b.example:3478'],
      turnUrls: ['turns:t.example:5349'],
      turnSecret: 's',
      turnTtlSeconds: 120,
    });
    expect(callsFromEnv({ PARLEY_CALL_RING_MS: '1500' }, d).ringTimeoutMs).toBe(1500);
    expect(callsFromEnv({}, d)).toMatchObject({ ringTimeoutMs: 45_000, maxParticipants: 4, turnSecret: undefined });
    expect(callsFromEnv({ PARLEY_CALL_GHOST_SECONDS: '90' }, d).ghostMs).toBe(90_000);
    expect(callsFromEnv({}, d).ghostMs).toBe(60_000);
  });

  it('refuses a mesh of one, a ghost grace of nothing and URLs that are not STUN or TURN', () => {
    expect(() => callsFromEnv({ PARLEY_CALL_MAX_PARTICIPANTS: '1' }, d)).toThrow(/at least 2/);
    expect(() => callsFromEnv({ PARLEY_TURN_URLS: 'http://t.example' }, d)).toThrow(/stun:, stuns:, turn: or turns:/);
    expect(() => callsFromEnv({ PARLEY_CALL_RING_SECONDS: 'soon' }, d)).toThrow(/whole number/);
    expect(() => callsFromEnv({ PARLEY_CALL_GHOST_SECONDS: '0' }, d)).toThrow(/at least 1/);
  });
});

describe('formatDuration (the system message)', () => {
  it('says seconds, minutes, hours', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    // One rule with the call history's clock (0:04): whole seconds elapsed, never rounded up.
    expect(formatDuration(4_600)).toBe('4 s');
    expect(formatDuration(119_999)).toBe('1 min');
    expect(formatDuration(12 * 60_000 + 10_000)).toBe('12 min');
    expect(formatDuration(65 * 60_000)).toBe('1 h 5 min');
    expect(formatDuration(120 * 60_000)).toBe('2 h');
  });
});

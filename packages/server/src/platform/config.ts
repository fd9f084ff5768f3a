/**
 * Server configuration: one plain object, read from the environment in `main.ts` and
 * built directly by tests. Nothing else reads `process.env`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Config {
  /** HTTP port; 0 picks a free one. */
  port: number;
  host: string;
  /** Folder for PGlite data, the master key and the generated admin token. */
  dataDir: string;
  /** PostgreSQL URL; unset = embedded PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Redis URL for fan-out between nodes (issue: scale-out); unset = in process. */
  redisUrl?: string | undefined;
  /** Admin token; unset = generated on first start and kept in `dataDir`. */
  adminToken?: string | undefined;
  /** 32-byte master key (base64 or hex) sealing app secrets at rest; unset = kept in `dataDir`. */
  masterKey?: string | undefined;
  /** Largest HTTP body, in bytes. */
  bodyLimit: number;
  /** Largest WebSocket frame, in bytes. */
  maxFrameBytes: number;
  /** Bytes a connection may have queued before it is dropped as a slow consumer. */
  maxQueuedBytes: number;
  /** How often the server pings each socket, in ms; a socket that misses a pong is closed. */
  heartbeatMs: number;
  /** Time allowed for the auth frame, in ms. */
  authTimeoutMs: number;
  /** How long typing state lives without a refresh, in ms. */
  typingTtlMs: number;
  /** Grace after the last connection closes before a user is shown offline, in ms. */
  presenceGraceMs: number;
  /** Inactivity after which an online user is shown away, in ms. */
  awayAfterMs: number;
  /** Messages one user may send per `rateWindowMs` (0 = no limit). */
  rateMessages: number;
  rateWindowMs: number;
  /** Most events a resync replays before it answers `reload`. */
  maxReplay: number;
  logLevel: string;
  /** A name for this node in logs and metrics. */
  nodeId: string;
  /** The built web app (served at `/` when it holds an index.html); unset = none. */
  webDir?: string | undefined;
  /**
   * Which proxies' `X-Forwarded-For`/`-Proto`/`-Host` are believed (Fastify's `trustProxy`):
   * `false` (none, the default), a number of hops, or addresses and CIDRs of the proxies.
   */
  trustProxy: TrustProxy;
  /** Origins besides the server's own that may make cookie-authenticated writes. */
  allowedOrigins: string[];
}

export type TrustProxy = false | number | string[];

/** apps/web's build folder in this repository (absent when the server runs elsewhere). */
const REPO_WEB_DIR = repoWebDir();

function repoWebDir(): string | undefined {
  try {
    // From a string, not `new URL(…)`: browser-like test environments replace the global URL.
    return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../apps/web/dist');
  } catch {
    return undefined; // not loaded from a file
  }
}

/** Defaults, overridden by the environment or by tests. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 3000,
    host: '127.0.0.1',
    dataDir: path.resolve('.parley'),
    bodyLimit: 1024 * 1024,
    maxFrameBytes: 64 * 1024,
    maxQueuedBytes: 4 * 1024 * 1024,
    heartbeatMs: 25_000,
    authTimeoutMs: 10_000,
    typingTtlMs: 6_000,
    presenceGraceMs: 5_000,
    awayAfterMs: 10 * 60_000,
    maxReplay: 2_000,
    rateMessages: 120,
    rateWindowMs: 10_000,
    logLevel: 'info',
    nodeId: `node-${process.pid}`,
    webDir: REPO_WEB_DIR,
    trustProxy: false,
    allowedOrigins: [],
    ...overrides,
  };
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${v}"`);
  return n;
}

/** Read the configuration from environment variables (documented in README.md). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const d = defaultConfig();
  const pick = <T>(v: T | undefined, fallback: T) => (v === undefined ? fallback : v);
  return {
    ...d,
    port: pick(int(env.PORT, 'PORT'), d.port),
    host: env.HOST || d.host,
    dataDir: path.resolve(env.PARLEY_DATA_DIR || d.dataDir),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    adminToken: env.PARLEY_ADMIN_TOKEN || undefined,
    masterKey: env.PARLEY_MASTER_KEY || undefined,
    bodyLimit: pick(int(env.PARLEY_BODY_LIMIT, 'PARLEY_BODY_LIMIT'), d.bodyLimit),
    logLevel: env.LOG_LEVEL || d.logLevel,
    rateMessages: pick(int(env.PARLEY_RATE_MESSAGES, 'PARLEY_RATE_MESSAGES'), d.rateMessages),
    nodeId: env.PARLEY_NODE_ID || d.nodeId,
    webDir: env.PARLEY_WEB_DIR ? path.resolve(env.PARLEY_WEB_DIR) : d.webDir,
    trustProxy: parseTrustProxy(env.PARLEY_TRUST_PROXY),
    allowedOrigins: parseOrigins(env.PARLEY_ALLOWED_ORIGINS),
    ...overrides,
  };
}

/**
 * `PARLEY_TRUST_PROXY`: unset, `off` or `0` — believe no forwarded header; a whole number —
 * that many proxies in front (the client is that many hops back in `X-Forwarded-For`); else a
 * comma-separated list of the proxies' addresses or CIDRs (`10.0.0.0/8`, `::1`, and the names
 * `loopback`, `linklocal`, `uniquelocal`), checked when the server starts.
 */
export function parseTrustProxy(v: string | undefined): TrustProxy {
  const s = v?.trim() ?? '';
  if (s === '' || s === 'off' || s === 'false' || s === '0') return false;
  if (/^\d+$/.test(s)) return Number(s);
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const a of list)
    if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(a))
      throw new Error(`PARLEY_TRUST_PROXY: "${a}" is not an address, a CIDR, a hop count or "off"`);
  return list;
}

/** The setting as Fastify's `trustProxy`: a hop count as proxy-addr's function (Fastify takes a number, its types do not). */
export function fastifyTrustProxy(t: TrustProxy): false | string[] | ((addr: string, hop: number) => boolean) {
  return typeof t === 'number' ? (_addr, hop) => hop < t : t;
}

/** `PARLEY_ALLOWED_ORIGINS`: comma-separated origins (`https://chat.example.com`). */
export function parseOrigins(v: string | undefined): string[] {
  const list = (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const o of list) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = u.origin === o && (u.protocol === 'https:' || u.protocol === 'http:');
    } catch {}
    if (!ok) throw new Error(`PARLEY_ALLOWED_ORIGINS: "${o}" is not an origin like https://chat.example.com`);
  }
  return list;
}

/**
 * Fetching URLs that users posted (link previews) without letting them reach inside: the
 * server-side request forgery rules.
 *
 * - Only `http:` and `https:`, only ports 80 and 443 (an allow-listed host may use others).
 * - The name is resolved first and *every* address it resolves to must be public: loopback,
 *   private (RFC 1918, unique local), link-local (which holds the cloud metadata address
 *   169.254.169.254), carrier-grade NAT, multicast, reserved, documentation and IPv4-mapped
 *   forms of those are refused. The connection then goes to the address that was checked
 *   (the socket's lookup is pinned to it), so a second, different DNS answer cannot slip in.
 * - Redirects are followed by hand, at most 3, each target checked the same way.
 * - The body is capped in bytes and the whole fetch in time; no cookies are sent or kept.
 * - `allow` (the operator's `PARLEY_OUTBOUND_ALLOW` for this kind of call, platform/outbound.ts)
 *   lets chosen private targets through: a host name entry, whatever it resolves to; an address
 *   or CIDR entry, the addresses in it (each on its port, if it names one). Ports other than
 *   80 and 443 are reached only on an allowed target. Everything else keeps every check, each
 *   redirect's target included. `allowHosts` (`host:port` entries) adds to it from code (tests).
 *
 * Link previews (unfurl.ts, jobs.ts) fetch every page, oEmbed document and image through it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { ApiError } from '../../platform/errors.js';
import { AllowList, type OutboundKind, outboundSetting, withHosts } from '../../platform/outbound.js';

const NONE = new AllowList([]);

/** Why a fetch was refused or failed. */
export class FetchRefused extends Error {
  constructor(
    readonly reason:
      | 'scheme'
      | 'port'
      | 'blocked-address'
      | 'dns'
      | 'too-many-redirects'
      | 'too-large'
      | 'timeout'
      | 'http',
    message: string,
  ) {
    super(message);
    this.name = 'FetchRefused';
  }
}

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

export interface SafeFetchOptions {
  /** Private targets this call may reach (platform/outbound.ts); default none. */
  allow?: AllowList;
  /** `host:port` entries let through whatever they resolve to (tests), added to `allow`. */
  allowHosts?: readonly string[];
  /** DNS resolution (default: the system's, every address). */
  lookup?: Lookup;
  maxBytes?: number;
  /**
   * Past `maxBytes`, stop reading and answer what arrived (`truncated: true`) instead of
   * refusing: a page's metadata is at its start, so an endless or huge page still has a card.
   */
  truncate?: boolean;
  timeoutMs?: number;
  maxRedirects?: number;
  /** Sent as `Accept`. */
  accept?: string;
  /** `POST` with `body` (webhooks); default `GET`. */
  method?: 'GET' | 'POST';
  body?: string | Buffer;
  /** More request headers (webhooks: content type, signature). */
  headers?: Record<string, string>;
  /** Sent as `User-Agent` (default: the link preview bot's). */
  userAgent?: string;
  /**
   * Keep the connection open for the next call to the same checked address (webhooks: one
   * endpoint gets many deliveries). A pooled socket is only ever reused for that address, and
   * every call still checks its target first.
   */
  keepAlive?: boolean;
}

/**
 * Keep-alive agents by checked address, port and scheme. Sockets in an agent's pool were
 * connected to that address, so reusing one never reaches anything but what was checked; a
 * name that now resolves elsewhere is checked again and gets the agent of its new address.
 */
const agents = new Map<string, http.Agent>();
const MAX_AGENTS = 1_000;
function keepAliveAgent(url: URL, target: { address: string }): http.Agent {
  const key = `${url.protocol}//${target.address}:${url.port}/${url.hostname}`;
  let agent = agents.get(key);
  if (!agent) {
    if (agents.size >= MAX_AGENTS) {
      const [oldest, a] = agents.entries().next().value as [string, http.Agent];
      a.destroy();
      agents.delete(oldest);
    }
    const o = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 64, maxFreeSockets: 64, timeout: 30_000 };
    agent = url.protocol === 'https:' ? new https.Agent(o) : new http.Agent(o);
    agents.set(key, agent);
  }
  return agent;
}

export interface Fetched {
  url: string;
  status: number;
  contentType: string;
  body: Buffer;
  /** Reading stopped at `maxBytes` (only with `truncate`). */
  truncated: boolean;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64 (embeds an IPv4 address)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (embeds an IPv4 address)
  ['fc00::', 7], // unique local (fd00:ec2::254 is a metadata address)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** Whether `ip` is a public unicast address a preview may be fetched from. */
export function isPublicAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return !blocked.check(ip, 'ipv4');
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
    if (mapped) return isPublicAddress(mapped[1] as string);
    const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
    if (hexMapped) {
      const hi = Number.parseInt(hexMapped[1] as string, 16);
      const lo = Number.parseInt(hexMapped[2] as string, 16);
      return isPublicAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    return !blocked.check(ip, 'ipv6');
  }
  return false;
}

const systemLookup: Lookup = async (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * The address to connect to for `url`, after the checks (throws FetchRefused). Exported for the
 * webhooks' pooled sender, which connects to the address this answers and nothing else.
 */
export async function checkTarget(
  url: URL,
  allow: AllowList,
  opts: SafeFetchOptions,
): Promise<{ address: string; family: number }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FetchRefused('scheme', `Only http and https URLs are fetched, not ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? '443' : '80'));
  const standard = port === 80 || port === 443;
  const byName = !isIP(host) && allow.allowsName(host, port);
  // No name or address entry can allow this port: refuse before any lookup.
  if (!standard && !byName && !allow.entries.some((e) => e.kind === 'net'))
    throw new FetchRefused('port', `Port ${port} is not fetched`);
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (opts.lookup ?? systemLookup)(host);
    } catch {
      throw new FetchRefused('dns', `${host} does not resolve`);
    }
  }
  if (addresses.length === 0) throw new FetchRefused('dns', `${host} does not resolve`);
  // Every address, not just the first: a name with one public and one private address is refused.
  if (!byName)
    for (const a of addresses) {
      if (allow.allowsAddress(a.address, port)) continue;
      if (!standard) throw new FetchRefused('port', `Port ${port} is not fetched`);
      if (!isPublicAddress(a.address))
        throw new FetchRefused('blocked-address', `${host} resolves to ${a.address}, which is not a public address`);
    }
  return addresses[0] as { address: string; family: number };
}

/** How long a registration waits for its URL's name to resolve. */
const REGISTER_LOOKUP_MS = 3_000;

/**
 * A URL the server is told to call later — a webhook endpoint, the before-send hook, a slash
 * command, a GIF provider — checked when it is registered, so a target the outbound policy
 * refuses is answered at once with `OUTBOUND_NOT_ALLOWED` naming the setting that would allow
 * it (`details.setting`, `details.entry`), instead of being accepted and failing at every call.
 * The same check runs again at each call (the address may change, and so may the settings). A
 * name that does not resolve now is let through: DNS may not be ready yet, and its calls fail
 * and are retried until it is.
 */
export async function checkOutboundUrl(
  raw: string,
  allow: AllowList,
  kind: OutboundKind,
  opts: { lookup?: Lookup } = {},
): Promise<void> {
  const u = new URL(raw);
  const lookup = opts.lookup ?? systemLookup;
  try {
    // A name whose lookup hangs is let through as one that does not resolve (a request waits
    // on it at most this long).
    await checkTarget(u, allow, {
      lookup: (host) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('lookup timed out')), REGISTER_LOOKUP_MS);
          lookup(host)
            .then(resolve, reject)
            .finally(() => clearTimeout(timer));
        }),
    });
  } catch (err) {
    if (!(err instanceof FetchRefused) || err.reason === 'dns') return;
    const setting = outboundSetting(kind);
    const port = Number(u.port || (u.protocol === 'https:' ? '443' : '80'));
    const why =
      err.reason === 'port'
        ? `port ${port} is not 80 or 443`
        : err.reason === 'blocked-address'
          ? err.message.replace(/^(\S+) resolves to (\S+), which/, (_m, h, a) =>
              h === a ? `${h}, which` : `${h} resolves to ${a}, which`,
            )
          : err.message;
    const entry = u.host;
    throw new ApiError(
      'OUTBOUND_NOT_ALLOWED',
      `${u.origin}${u.pathname} is not called by this server: ${why}. To allow it, add ${entry} to ${setting} (or PARLEY_OUTBOUND_ALLOW) and restart the server.`,
      { setting, entry, reason: err.reason },
    );
  }
}

/** GET (or POST) `raw` under the rules above. */
export async function safeFetch(raw: string, opts: SafeFetchOptions = {}): Promise<Fetched> {
  const maxBytes = opts.maxBytes ?? 2 * 1024 * 1024;
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? 8_000);
  let url = new URL(raw);
  const allow = opts.allowHosts?.length
    ? withHosts(opts.allow ?? new AllowList([]), opts.allowHosts)
    : (opts.allow ?? NONE);
  for (let hop = 0; ; hop++) {
    const target = await checkTarget(url, allow, opts);
    const res = await request(url, target, deadline, opts);
    if ([301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && res.headers.location) {
      res.resume();
      if (hop >= (opts.maxRedirects ?? 3)) throw new FetchRefused('too-many-redirects', 'Too many redirects');
      try {
        url = new URL(res.headers.location, url);
      } catch {
        throw new FetchRefused('http', 'A redirect to something that is not a URL');
      }
      continue;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    try {
      for await (const c of res) {
        const chunk = c as Buffer;
        if (size + chunk.length > maxBytes) {
          res.destroy();
          if (!opts.truncate) throw new FetchRefused('too-large', `The answer is larger than ${maxBytes} bytes`);
          chunks.push(chunk.subarray(0, maxBytes - size));
          size = maxBytes;
          truncated = true;
          break;
        }
        size += chunk.length;
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof FetchRefused) throw err;
      if (deadline.aborted) throw new FetchRefused('timeout', 'The fetch took too long');
      throw new FetchRefused('http', (err as Error).message);
    }
    return {
      url: url.toString(),
      status: res.statusCode ?? 0,
      contentType: String(res.headers['content-type'] ?? ''),
      body: Buffer.concat(chunks),
      truncated,
    };
  }
}

function request(
  url: URL,
  target: { address: string; family: number },
  signal: AbortSignal,
  opts: SafeFetchOptions,
  fresh = false,
): Promise<http.IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  const pooled = opts.keepAlive && !fresh;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: opts.method ?? 'GET',
        signal,
        // The checked address, whatever the name resolves to now (no second DNS answer).
        lookup: ((_host: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) =>
          o?.all
            ? cb(null, [{ address: target.address, family: target.family }])
            : cb(null, target.address, target.family)) as never,
        headers: {
          'user-agent': opts.userAgent ?? 'ParleyBot/1.0 (link previews)',
          accept: opts.accept ?? '*/*',
          'accept-encoding': 'identity',
          ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
          ...opts.headers,
        },
        agent: pooled ? keepAliveAgent(url, target) : false,
      },
      resolve,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the other end closed while it idled: once more on a new one.
      if (req.reusedSocket && !signal.aborted && (err.code === 'ECONNRESET' || err.code === 'EPIPE'))
        return void request(url, target, signal, opts, true).then(resolve, reject);
      reject(
        signal.aborted ? new FetchRefused('timeout', 'The fetch took too long') : new FetchRefused('http', err.message),
      );
    });
    req.end(opts.body);
  });
}

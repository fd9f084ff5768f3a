/**
 * The outbound allow-list (`PARLEY_OUTBOUND_ALLOW`): which private targets the server's own
 * calls out — webhooks, the before-send hook, link previews, Web Push — may reach. By default
 * none: those calls refuse loopback, private, link-local and other non-public addresses, and
 * ports but 80 and 443 (features/links/safe-fetch.ts). A self-hosted Parley usually runs beside
 * its backend on one private network, so an operator names what it may call there:
 *
 *     PARLEY_OUTBOUND_ALLOW=10.0.0.0/8,backend.internal:8080     every kind of call
 *     PARLEY_OUTBOUND_ALLOW_WEBHOOKS=127.0.0.1:9000              webhooks only (added to the above)
 *
 * Kinds: `WEBHOOKS`, `BEFORE_SEND`, `PREVIEWS`, `PUSH`, `COMMANDS` (slash commands and GIF search), `ASSISTANT` (the
 * assistant's model provider, features/assistant). An entry is
 *
 * - an address or CIDR (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`), optionally with a port
 *   (`10.1.2.3:8080`, `[fd00::1]:8080`, `10.0.0.0/8:8080`): a resolved address in it is
 *   allowed (on that port, or any port when none is named);
 * - a host name, optionally with a port (`backend.internal`, `backend.internal:8080`,
 *   `*.corp.example`): that name (or any name under the wildcard) is allowed whatever it
 *   resolves to. The connection still goes to the address resolved and checked once, so a
 *   second DNS answer cannot slip another address in.
 *
 * Everything not allowed keeps every check (addresses, ports, each redirect). Entries are read
 * and checked at start: a bad one stops the server with a message naming it.
 */
import { BlockList, isIP } from 'node:net';

export const OUTBOUND_KINDS = ['webhooks', 'before_send', 'previews', 'push', 'commands', 'assistant'] as const;
export type OutboundKind = (typeof OUTBOUND_KINDS)[number];

/** The environment variable of one kind's own entries (`PARLEY_OUTBOUND_ALLOW_WEBHOOKS`). */
export const outboundSetting = (kind: OutboundKind) => `PARLEY_OUTBOUND_ALLOW_${kind.toUpperCase()}`;

interface NameEntry {
  kind: 'name';
  /** Lower-cased; a leading `*.` matches any name under it. */
  name: string;
  port: number | null;
  text: string;
}
interface NetEntry {
  kind: 'net';
  list: BlockList;
  port: number | null;
  text: string;
}
type Entry = NameEntry | NetEntry;

/** One kind's allowed targets. */
export class AllowList {
  constructor(readonly entries: readonly Entry[]) {}

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether the URL's host name on `port` (null: any port, as a DNS lookup cannot tell) is allowed by a name entry. */
  allowsName(host: string, port: number | null): boolean {
    const h = host.toLowerCase().replace(/\.$/, '');
    return this.entries.some(
      (e) =>
        e.kind === 'name' &&
        (port === null || e.port === null || e.port === port) &&
        (e.name.startsWith('*.') ? h.endsWith(e.name.slice(1)) : h === e.name),
    );
  }

  /** Whether `address` on `port` (null: any port, as a DNS lookup cannot tell) is in an address entry. */
  allowsAddress(address: string, port: number | null): boolean {
    const v = isIP(address);
    if (!v) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const [a, family] = mapped
      ? [mapped[1] as string, 'ipv4' as const]
      : [address, v === 4 ? ('ipv4' as const) : ('ipv6' as const)];
    return this.entries.some(
      (e) => e.kind === 'net' && (port === null || e.port === null || e.port === port) && e.list.check(a, family),
    );
  }

  toString(): string {
    return this.entries.map((e) => e.text).join(',');
  }
}

/** The allow-list of each kind. */
export type OutboundAllow = Readonly<Record<OutboundKind, AllowList>>;

export const NO_OUTBOUND_ALLOW: OutboundAllow = Object.freeze(
  Object.fromEntries(OUTBOUND_KINDS.map((k) => [k, new AllowList([])])) as Record<OutboundKind, AllowList>,
);

function port(text: string, p: string, setting: string): number {
  const n = Number(p);
  if (!/^\d{1,5}$/.test(p) || n < 1 || n > 65535) throw new Error(`${setting}: "${text}" has a bad port "${p}"`);
  return n;
}

const NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,62})?)(\.[a-z0-9_]([a-z0-9_-]{0,62})?)*$/;

/** Parse one entry (see the module comment); throws an Error naming `setting` and the entry. */
export function parseEntry(raw: string, setting = 'PARLEY_OUTBOUND_ALLOW'): Entry {
  const text = raw.trim();
  if (!text) throw new Error(`${setting}: an empty entry`);
  let host = text;
  let p: number | null = null;
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    if (bracketed[2] !== undefined) p = port(text, bracketed[2], setting);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const [h, q] = text.split(':') as [string, string];
    host = h;
    p = port(text, q, setting);
  }
  const slash = host.indexOf('/');
  const addr = slash >= 0 ? host.slice(0, slash) : host;
  const v = isIP(addr);
  if (v) {
    const max = v === 4 ? 32 : 128;
    const bits = slash >= 0 ? host.slice(slash + 1) : String(max);
    const prefix = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || prefix > max)
      throw new Error(`${setting}: "${text}" has a bad prefix length "/${bits}"`);
    const list = new BlockList();
    list.addSubnet(addr, prefix, v === 4 ? 'ipv4' : 'ipv6');
    return { kind: 'net', list, port: p, text };
  }
  if (slash >= 0) throw new Error(`${setting}: "${text}" is not a CIDR (the address before "/" is not an IP address)`);
  const name = host.toLowerCase();
  if (!NAME.test(name) || name.length > 253)
    throw new Error(`${setting}: "${text}" is not an address, a CIDR or a host name (with an optional :port)`);
  return { kind: 'name', name, port: p, text };
}

/** Parse a comma-separated list of entries. */
export function parseAllowList(v: string | undefined, setting = 'PARLEY_OUTBOUND_ALLOW'): AllowList {
  const items = (v ?? '').split(',').filter((x) => x.trim() !== '');
  return new AllowList(items.map((x) => parseEntry(x, setting)));
}

/**
 * Read `PARLEY_OUTBOUND_ALLOW` (every kind) and `PARLEY_OUTBOUND_ALLOW_<KIND>` (added to it for
 * that kind) from `env`. Throws on a bad entry, or a variable that names no kind.
 */
export function outboundAllowFromEnv(env: NodeJS.ProcessEnv): OutboundAllow {
  for (const key of Object.keys(env))
    if (
      key.startsWith('PARLEY_OUTBOUND_ALLOW_') &&
      !OUTBOUND_KINDS.includes(key.slice(22).toLowerCase() as OutboundKind)
    )
      throw new Error(
        `${key}: no such kind of outbound call (${OUTBOUND_KINDS.map((k) => k.toUpperCase()).join(', ')})`,
      );
  const all = parseAllowList(env.PARLEY_OUTBOUND_ALLOW);
  return Object.fromEntries(
    OUTBOUND_KINDS.map((k) => {
      const setting = outboundSetting(k);
      return [k, new AllowList([...all.entries, ...parseAllowList(env[setting], setting).entries])];
    }),
  ) as Record<OutboundKind, AllowList>;
}

/** Merge code-set `host:port` lists (tests) into a kind's list. */
export function withHosts(list: AllowList, hosts: readonly string[]): AllowList {
  return hosts.length === 0 ? list : new AllowList([...list.entries, ...hosts.map((h) => parseEntry(h, 'allowHosts'))]);
}

/** One line per kind that allows anything, for `parley start`'s output; empty when none does. */
export function describeOutboundAllow(a: OutboundAllow): string[] {
  const byList = new Map<string, OutboundKind[]>();
  for (const k of OUTBOUND_KINDS) {
    const s = a[k].toString();
    if (s) byList.set(s, [...(byList.get(s) ?? []), k]);
  }
  return [...byList].map(([list, kinds]) => `${kinds.join(', ')} → ${list.split(',').join(', ')}`);
}

/** What `allowFor` reads of the configuration. */
export interface OutboundConfig {
  outboundAllow: OutboundAllow;
  /** Code-set `host:port` lists (tests): merged into their kinds. */
  webhookAllowHosts: readonly string[];
  previewAllowHosts: readonly string[];
  webPushAllowHosts: readonly string[];
}

const merged = new WeakMap<OutboundConfig, Partial<Record<OutboundKind, AllowList>>>();

/** The allow-list of one kind of call under `config` (built once per config). */
export function allowFor(config: OutboundConfig, kind: OutboundKind): AllowList {
  let m = merged.get(config);
  if (!m) {
    m = {};
    merged.set(config, m);
  }
  let l = m[kind];
  if (!l) {
    const hosts =
      kind === 'previews'
        ? config.previewAllowHosts
        : kind === 'push'
          ? config.webPushAllowHosts
          : config.webhookAllowHosts;
    l = withHosts(config.outboundAllow[kind], hosts);
    m[kind] = l;
  }
  return l;
}

/** Each kind's entries as written, for another thread (its lists are rebuilt by `allowFromTexts`). */
export function allowTexts(allow: OutboundAllow): Record<OutboundKind, string[]> {
  return Object.fromEntries(OUTBOUND_KINDS.map((k) => [k, allow[k].entries.map((e) => e.text)])) as Record<
    OutboundKind,
    string[]
  >;
}

/** The lists `allowTexts` wrote down, parsed again. */
export function allowFromTexts(texts: Record<OutboundKind, string[]>): OutboundAllow {
  return Object.fromEntries(
    OUTBOUND_KINDS.map((k) => [k, new AllowList(texts[k].map((t) => parseEntry(t)))]),
  ) as OutboundAllow;
}

/**
 * Where the server may send a Web Push: an https endpoint at a public address. A user names the
 * endpoint, so without this check a subscription could make the server POST to its own network
 * (metadata services, admin ports). Checked when a subscription is registered (an IP literal)
 * and again at each connection (`pushLookup`: every address a name resolves to, the one
 * connected to included), so a name that later resolves somewhere private is refused too.
 * The operator's allow-list (`PARLEY_OUTBOUND_ALLOW`, `PARLEY_OUTBOUND_ALLOW_PUSH`) lets chosen
 * private push services through (and `webPushAllowHosts`, from code, a test's).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { invalid } from '../../platform/errors.js';
import { allowFor } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { isPublicAddress } from '../links/index.js';

const hostOf = (u: URL) => u.hostname.replace(/^\[|\]$/g, '');
const portOf = (u: URL) => Number(u.port || (u.protocol === 'https:' ? '443' : '80'));
/** An endpoint the operator's allow-list names (`PARLEY_OUTBOUND_ALLOW_PUSH`, platform/outbound.ts). */
const allowed = (svc: Services, u: URL) => {
  const list = allowFor(svc.config, 'push');
  const host = hostOf(u);
  return isIP(host) ? list.allowsAddress(host, portOf(u)) : list.allowsName(host, portOf(u));
};

/** Throws VALIDATION_ERROR for an endpoint the server will not push to. */
export function checkPushEndpoint(svc: Services, endpoint: string): void {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw invalid('endpoint is not a URL');
  }
  if (allowed(svc, u)) return;
  if (u.protocol !== 'https:') throw invalid('endpoint must be an https URL');
  if (u.username || u.password) throw invalid('endpoint must not carry credentials');
  const host = hostOf(u);
  if (isIP(host) && !isPublicAddress(host)) throw invalid('endpoint must be at a public address');
  if (host === 'localhost' || host.endsWith('.localhost')) throw invalid('endpoint must be at a public address');
}

const lookups = new WeakMap<Services, LookupFunction>();

/** The lookup for push connections: only public addresses, unless the host is allowed. */
export function pushLookup(svc: Services): LookupFunction {
  let l = lookups.get(svc);
  if (l) return l;
  l = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      // The lookup does not know the port: the endpoint's was checked when it was registered.
      const list = allowFor(svc.config, 'push');
      const ok = list.allowsName(hostname, null)
        ? addresses
        : addresses.filter((a) => isPublicAddress(a.address) || list.allowsAddress(a.address, null));
      if (ok.length === 0)
        return callback(
          Object.assign(new Error(`push endpoint ${hostname} resolves to no public address`), { code: 'ENOTFOUND' }),
          '',
          0,
        );
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
      const first = ok[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
  lookups.set(svc, l);
  return l;
}

/** At send time: an endpoint that became unacceptable (an IP literal) is not pushed to. */
export function pushableEndpoint(svc: Services, endpoint: string): boolean {
  try {
    checkPushEndpoint(svc, endpoint);
    return true;
  } catch {
    return false;
  }
}

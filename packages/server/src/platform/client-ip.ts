/**
 * The client's address of a raw request, by the same rule as Fastify's `req.ip`
 * (`PARLEY_TRUST_PROXY`): the peer's, unless the peer is a trusted proxy, in which case the
 * nearest untrusted address of `X-Forwarded-For`. For the parts that see a request before (or
 * without) Fastify: the WebSocket upgrade. Without it, behind a trusted proxy every socket
 * counted against the proxy's own per-IP budget.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import { fastifyTrustProxy, type TrustProxy } from './config.js';

export function clientAddress(trust: TrustProxy): (req: IncomingMessage) => string | null {
  const t = fastifyTrustProxy(trust);
  if (t === false) return (req) => req.socket.remoteAddress ?? null;
  const fn = typeof t === 'function' ? t : proxyAddr.compile(t);
  return (req) => (req.socket.remoteAddress ? proxyAddr(req, fn) : null);
}

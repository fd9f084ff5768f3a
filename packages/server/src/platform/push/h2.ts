/**
 * One HTTP/2 request (APNs requires HTTP/2; FCM speaks it too), with an optional CA to trust
 * for a non-public endpoint (a proxy, or the local servers of the tests). Sessions are kept per
 * origin + CA and reused, as APNs asks (a new TLS connection per push is throttled there).
 */
import http2 from 'node:http2';

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

const sessions = new Map<string, http2.ClientHttp2Session>();

function sessionFor(origin: string, ca: string | undefined): http2.ClientHttp2Session {
  const key = `${origin}\n${ca ?? ''}`;
  const open = sessions.get(key);
  if (open && !open.closed && !open.destroyed) return open;
  const s = http2.connect(origin, ca ? { ca } : {});
  s.on('error', () => sessions.delete(key));
  s.on('close', () => sessions.delete(key));
  // An idle session should not keep the process alive.
  s.unref();
  sessions.set(key, s);
  return s;
}

/** Send one request and read the whole answer (bounded by `timeoutMs`). */
export function h2request(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string; ca?: string | undefined; timeoutMs?: number },
): Promise<H2Response> {
  const u = new URL(url);
  const session = sessionFor(u.origin, opts.ca);
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': opts.method,
      ':path': `${u.pathname}${u.search}`,
      ...opts.headers,
    });
    req.setTimeout(opts.timeoutMs ?? 15_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      headers = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve({ status: Number(headers[':status'] ?? 0), headers, body: Buffer.concat(chunks).toString('utf8') }),
    );
    req.on('error', reject);
    req.on('close', () => {
      if (!headers[':status']) reject(new Error(`HTTP/2 request to ${u.origin} closed without an answer`));
    });
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

/** Close every kept session (server shutdown, tests). */
export function closeH2Sessions(): void {
  for (const s of sessions.values()) s.close();
  sessions.clear();
}

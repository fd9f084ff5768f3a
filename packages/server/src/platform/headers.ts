/**
 * Security headers on every answer, and the Content-Security-Policy of the web app's pages.
 *
 * - Everything: `X-Content-Type-Options: nosniff` (no guessing a JSON answer or an upload is
 *   HTML), `Referrer-Policy: strict-origin-when-cross-origin` (invite links carry their token
 *   in the path: other sites see only our origin), `X-Frame-Options: DENY`, a
 *   `Permissions-Policy` that keeps camera, microphone and screen capture to our own origin
 *   (calls need them) and turns off what the app never uses, and HSTS when the request came
 *   over https (directly, or per a trusted proxy: PARLEY_TRUST_PROXY).
 * - The web app's pages (and its service worker, whose CSP comes from its own answer): a
 *   strict CSP — scripts only from our origin (plus the hash of any inline script the build
 *   emits; Vite emits none today), no inline styles, `connect-src` our origin and its
 *   WebSocket, no plugins, no `<base>`, never framed, violations reported to
 *   `POST /v1/csp-report`.
 * - Every other answer (JSON, files): `default-src 'none'; frame-ancestors 'none'` — an API
 *   answer opened as a page can run nothing and be framed by no one.
 * - `/docs/api/` keeps the CSP swagger-ui sets for its own page (app.ts); the documentation
 *   site's pages under `/docs/` get theirs from docs-site.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { logUrl } from './log.js';
import type { RateLimiter } from './rate-limit.js';

export const CSP_REPORT_PATH = '/v1/csp-report';

export const PERMISSIONS_POLICY =
  'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()';

/** A Host header fit to go into a header value (anything else is left out of the CSP). */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** The CSP of a web app page; `scriptHashes` are the `'sha256-…'` sources of its inline scripts. */
export function pageCsp(req: FastifyRequest, scriptHashes: readonly string[]): string {
  const host = req.host;
  // 'self' covers same-host ws:/wss: in CSP Level 3 browsers; the explicit sources are for
  // the others. wss: always (TLS may end at a proxy we do not know of), ws: only when the
  // page itself is plain http (a secure page may not open ws: anyway).
  const sockets = HOST.test(host) ? [`wss://${host}`, ...(req.protocol === 'http' ? [`ws://${host}`] : [])] : [];
  return [
    "default-src 'self'",
    `script-src 'self'${scriptHashes.map((h) => ` '${h}'`).join('')}`,
    "script-src-attr 'none'",
    "style-src 'self'",
    // Avatars are any https URL a user set; data: and blob: for what the app draws itself.
    "img-src 'self' data: blob: https:",
    "font-src 'self'",
    `connect-src 'self' ${sockets.join(' ')}`.trim(),
    "media-src 'self' blob:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `report-uri ${CSP_REPORT_PATH}`,
  ].join('; ');
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export interface HeaderOptions {
  /** `'sha256-…'` sources for the inline scripts of the web app's page, read when needed. */
  scriptHashes(): readonly string[];
}

/** Whether an answer is a page of the web app (or its service worker), as opposed to the API. */
function isAppPage(req: FastifyRequest, reply: FastifyReply): boolean {
  const type = String(reply.getHeader('content-type') ?? '');
  const path = req.url.split('?')[0] ?? '/';
  if (path === '/docs' || path.startsWith('/docs/')) return false;
  return type.startsWith('text/html') || path === '/sw.js';
}

export function registerSecurityHeaders(app: FastifyInstance, opts: HeaderOptions): void {
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    reply.header('x-frame-options', 'DENY');
    reply.header('permissions-policy', PERMISSIONS_POLICY);
    if (req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
    if (reply.hasHeader('content-security-policy')) return; // swagger-ui's own, on /docs/api/
    // A 304 has no body and no Content-Type, but its headers replace the cached answer's: the
    // API's CSP here would land on the cached page and block every script of the app on its
    // next load. Without one, the page keeps the CSP it was first served with.
    if (reply.statusCode === 304) return;
    if (isAppPage(req, reply)) {
      reply.header('content-security-policy', pageCsp(req, opts.scriptHashes()));
      reply.header('cross-origin-opener-policy', 'same-origin');
    } else {
      reply.header('content-security-policy', API_CSP);
    }
  });
}

/** How many reports one client IP may have logged per minute, and all clients together. */
const REPORTS_PER_IP = 10;
const REPORTS_PER_NODE = 100;

interface ReportDeps {
  limiter: RateLimiter;
}

/**
 * `POST /v1/csp-report`: where browsers report CSP violations, as `application/csp-report`
 * (`report-uri`) or `application/reports+json` (the Reporting API). Each is logged as one
 * `csp violation` warning with its directive and blocked URL, the page's path with secrets
 * blanked (logUrl). Anyone can post here, so it is bounded: small bodies, at most 10 logged
 * reports per client IP and 100 in all per minute; the rest are dropped. The answer is
 * always 204, so a flood learns nothing.
 */
export function cspReportRoute(deps: ReportDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    for (const type of ['application/csp-report', 'application/reports+json'])
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(null, null);
        }
      });
    app.post(
      CSP_REPORT_PATH,
      {
        bodyLimit: 16 * 1024,
        schema: {
          tags: ['security'],
          summary: "Report a Content-Security-Policy violation (browsers do, from the web app's pages)",
          description:
            'Accepts application/csp-report, application/reports+json or application/json; always 204. ' +
            'Reports are logged, at most 10 per client IP per minute.',
          security: [],
          response: { 204: { type: 'null' } },
        },
      },
      async (req, reply) => {
        const reports = violations(req.body);
        if (reports.length > 0) {
          const [mine, all] = await Promise.all([
            deps.limiter.hit(`csp:${req.ip}`, REPORTS_PER_IP, 60_000),
            deps.limiter.hit('csp:*', REPORTS_PER_NODE, 60_000),
          ]);
          if (mine.ok && all.ok) for (const csp of reports.slice(0, 5)) req.log.warn({ csp }, 'csp violation');
        }
        return reply.status(204).send();
      },
    );
  };
}

const text = (v: unknown, max = 300) => (typeof v === 'string' ? v.slice(0, max) : undefined);

/** A URL reduced to what is safe to log: origin and path, secrets blanked, no query. */
function safeUrl(v: unknown): string | undefined {
  const s = text(v, 2000);
  if (!s) return s;
  try {
    const u = new URL(s);
    return `${u.origin}${logUrl(u.pathname)}`.slice(0, 300);
  } catch {
    return s.slice(0, 40); // 'inline', 'eval', 'data' …
  }
}

/** The violations in a report body of either format, reduced to the fields worth logging. */
function violations(body: unknown): Record<string, unknown>[] {
  const raw: unknown[] = Array.isArray(body)
    ? body.filter((r) => (r as { type?: unknown })?.type === 'csp-violation').map((r) => (r as { body?: unknown }).body)
    : [(body as { 'csp-report'?: unknown } | null)?.['csp-report']];
  return raw
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    .map((r) => ({
      directive: text(r['effective-directive'] ?? r.effectiveDirective ?? r['violated-directive'], 100),
      blocked: safeUrl(r['blocked-uri'] ?? r.blockedURL),
      document: safeUrl(r['document-uri'] ?? r.documentURL),
      source: safeUrl(r['source-file'] ?? r.sourceFile),
      line: typeof (r['line-number'] ?? r.lineNumber) === 'number' ? (r['line-number'] ?? r.lineNumber) : undefined,
      disposition: text(r.disposition, 20),
      sample: text(r['script-sample'] ?? r.sample, 80),
    }));
}

/**
 * Serving the documentation site (docs/ built by VitePress: docs/.vitepress/config.mjs) at
 * `/docs/`, so a server carries its own docs, offline. The API's Swagger UI lives beside it at
 * `/docs/api/` (app.ts). One route, `GET /docs/*`, serves the files listed at start, and a
 * path with no file is the API's JSON 404. A route per file, as for the web app's few (web.ts),
 * was about 1,300 routes for the site's 443 files, each compiled into the router at start: a
 * tenth of a first start.
 *
 * Its pages get a CSP of their own: scripts only from our origin plus the hashes of the inline
 * scripts VitePress writes into each page (the site data, the dark-mode switch), and inline
 * styles, which its theme sets as attributes. The pages are the repository's Markdown: no one's
 * input reaches them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { inlineScriptHashes } from './web.js';

export const DOCS_PREFIX = '/docs/';

/** The CSP of a docs page whose inline scripts hash to `scriptHashes`. */
export function docsCsp(scriptHashes: readonly string[]): string {
  return [
    "default-src 'self'",
    `script-src 'self'${scriptHashes.map((h) => ` '${h}'`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serve the site built in `dir` at `/docs/` (and `/docs` itself), when it holds an index.html.
 * Returns whether it did. Files are listed once, at start: a rebuild needs a restart (its
 * assets have new hashed names anyway).
 */
export async function registerDocsSite(app: FastifyInstance, dir: string | undefined): Promise<boolean> {
  if (!dir) return false;
  const root = path.resolve(dir);
  let served: Set<string>;
  try {
    served = new Set(
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        // `parentPath` from Node 20.12, `path` before it.
        .map((d) =>
          path
            .relative(root, path.join(d.parentPath ?? d.path, d.name))
            .split(path.sep)
            .join('/'),
        ),
    );
  } catch {
    return false;
  }
  if (!served.has('index.html')) return false;
  /** The file a path under `/docs/` names ('' and a folder: its index.html), if the site has it. */
  const fileOf = (url: string): string | undefined => {
    const pathname = url.split('?')[0] ?? '';
    let rel: string;
    try {
      rel = decodeURIComponent(pathname.slice(DOCS_PREFIX.length));
    } catch {
      return undefined;
    }
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    return served.has(rel) ? rel : undefined;
  };
  /** Each page's CSP, by the path it is served at: hashed on its first request (the pages weigh MBs). */
  const csp = new Map<string, string>();
  const policyOf = (url: string): string | undefined => {
    const rel = fileOf(url);
    if (rel === undefined || !rel.endsWith('.html')) return undefined;
    let policy = csp.get(rel);
    if (policy === undefined) {
      try {
        policy = docsCsp(inlineScriptHashes(readFileSync(path.join(root, rel), 'utf8')));
      } catch {
        return undefined; // gone since the start: the file route answers 404
      }
      csp.set(rel, policy);
    }
    return policy;
  };
  // In a child context, as web.ts does: swagger-ui and the web app register their own copies.
  await app.register(async (child) => {
    // After the security headers' onSend (registered on the root before this): a page's policy
    // replaces the API's. Not on a 304, whose headers would replace the cached page's (headers.ts).
    child.addHook('onSend', async (req, reply) => {
      if (reply.statusCode === 304) return;
      const policy = policyOf(req.url);
      if (policy) reply.header('content-security-policy', policy);
    });
    // `serve: false`: no routes of its own (it would glob the folder and add one per file), only
    // `reply.sendFile`, which the one route below calls for a listed file.
    await child.register(fastifyStatic, {
      root,
      serve: false,
      cacheControl: false, // set below, per file
      setHeaders(res, file) {
        // VitePress puts a content hash in every asset name: those never change.
        const immutable = file.startsWith(path.join(root, 'assets') + path.sep);
        res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    child.get(`${DOCS_PREFIX}*`, { schema: { hide: true } }, (req, reply) => {
      const rel = fileOf(req.url);
      if (rel === undefined) return reply.callNotFound();
      return reply.sendFile(rel);
    });
  });
  return true;
}

/**
 * `/docs` (and `/docs/` when no site is built) lead to the site, or to the API's Swagger UI
 * (`/docs/api/`) without one: the address `parley start` prints always shows documentation.
 */
export function registerDocsRedirects(app: FastifyInstance, haveSite: boolean): void {
  const to = haveSite ? DOCS_PREFIX : `${DOCS_PREFIX}api/`;
  app.get('/docs', { schema: { hide: true } }, async (_req, reply) => reply.redirect(to, 302));
  if (!haveSite) app.get(DOCS_PREFIX, { schema: { hide: true } }, async (_req, reply) => reply.redirect(to, 302));
}

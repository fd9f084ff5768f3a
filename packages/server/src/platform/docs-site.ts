/**
 * Serving the documentation site (docs/ built by VitePress: docs/.vitepress/config.mjs) at
 * `/docs/`, so a server carries its own docs, offline. The API's Swagger UI lives beside it at
 * `/docs/api/` (app.ts). One route per file, as for the web app (web.ts): nothing else under
 * `/docs` becomes "known", and a path with no file is the API's JSON 404.
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
  let files: string[];
  try {
    files = readdirSync(root, { recursive: true }).map(String);
  } catch {
    return false;
  }
  if (!files.includes('index.html')) return false;
  const pages = new Set(files.filter((f) => f.endsWith('.html')).map((f) => f.split(path.sep).join('/')));
  /** Each page's CSP, by the path it is served at: hashed on its first request (the pages weigh MBs). */
  const csp = new Map<string, string>();
  const policyOf = (url: string): string | undefined => {
    const rel = url === '/docs' || url === DOCS_PREFIX ? 'index.html' : url.slice(DOCS_PREFIX.length);
    if (!pages.has(rel)) return undefined;
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
      const policy = policyOf(req.url.split('?')[0] ?? '');
      if (policy) reply.header('content-security-policy', policy);
    });
    await child.register(fastifyStatic, {
      root,
      prefix: DOCS_PREFIX,
      wildcard: false,
      redirect: false, // `/docs` is redirected to `/docs/` below: the site's router wants the slash
      decorateReply: false,
      cacheControl: false, // set below, per file
      setHeaders(res, file) {
        // VitePress puts a content hash in every asset name: those never change.
        const immutable = file.startsWith(path.join(root, 'assets') + path.sep);
        res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
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

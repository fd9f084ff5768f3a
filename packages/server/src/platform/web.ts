/**
 * Serving the bundled team web app (apps/web's Vite build) at `/`: its files as they are, and
 * `index.html` for any other page a browser asks for (the app routes on the client, so
 * `/w/…` or `/invite/…` must load it too). Nothing here shadows the API: the files get one
 * route each, and the page fallback runs only where no route matched, never under the API's
 * own prefixes, and only for requests that accept HTML — a script asking for a missing
 * `/v1/…` path still gets the JSON 404.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the server, never to the web app's pages. */
const SERVER_PATHS = /^\/(v1|docs|healthz|readyz|metrics)(\/|$)/;

/** Answers a request with the app's page and returns true, or returns false and leaves it alone. */
export type PageFallback = (req: FastifyRequest, reply: FastifyReply) => boolean;

/** The served web app: its page fallback, and the CSP sources of its page's inline scripts. */
export interface WebApp {
  pageFallback: PageFallback;
  scriptHashes(): readonly string[];
}

/** `'sha256-…'` CSP sources for the inline `<script>`s of a page (those without `src`). */
export function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (/\bsrc\s*=/i.test(m[1] ?? '')) continue;
    out.push(
      `sha256-${createHash('sha256')
        .update(m[2] ?? '')
        .digest('base64')}`,
    );
  }
  return out;
}

/** Whether `dir` holds a built web app. */
export function hasWebApp(dir: string | undefined): dir is string {
  return !!dir && existsSync(path.join(dir, 'index.html'));
}

/**
 * Register the web app's files (when `dir` holds a build) and return the page fallback for
 * the not-found handler and the hashes of its inline scripts, or null when there is nothing
 * to serve.
 */
export async function registerWebApp(app: FastifyInstance, dir: string | undefined): Promise<WebApp | null> {
  if (!hasWebApp(dir)) return null;
  const root = path.resolve(dir);
  const index = path.join(root, 'index.html');
  // In a child context: swagger-ui registers its own copy of the plugin, and both decorating
  // the same reply would clash. One route per file (no wildcard): a `GET /*` route would make
  // every path "known" and turn the API's 404s for other methods into 405s.
  await app.register(async (child) => {
    await child.register(fastifyStatic, {
      root,
      wildcard: false,
      decorateReply: false,
      cacheControl: false, // set below, per file
      setHeaders(res, file) {
        // Vite puts a content hash in every asset name: those never change. Everything else
        // (index.html, the manifest, icons) is revalidated so a new build shows at once.
        const immutable = file.startsWith(path.join(root, 'assets') + path.sep);
        res.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  });
  // Hashed again only when a rebuild replaced the page.
  let hashed: { mtimeMs: number; hashes: string[] } = { mtimeMs: -1, hashes: [] };
  const scriptHashes = () => {
    try {
      const { mtimeMs } = statSync(index);
      if (mtimeMs !== hashed.mtimeMs) hashed = { mtimeMs, hashes: inlineScriptHashes(readFileSync(index, 'utf8')) };
    } catch {}
    return hashed.hashes;
  };
  const pageFallback: PageFallback = (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = req.url.split('?')[0] ?? '/';
    if (SERVER_PATHS.test(pathname)) return false;
    if (!String(req.headers.accept ?? '').includes('text/html')) return false;
    let html: Buffer;
    try {
      // Read per request (a kilobyte): a rebuild while the server runs is picked up.
      html = readFileSync(index);
    } catch {
      return false;
    }
    void reply.status(200).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    return true;
  };
  return { pageFallback, scriptHashes };
}

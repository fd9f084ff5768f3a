/**
 * Serving the bundled team web app (apps/web's Vite build) at `/`: its files as they are, and
 * `index.html` for any other page a browser asks for (the app routes on the client, so
 * `/w/…` or `/invite/…` must load it too). Nothing here shadows the API: the files get one
 * route each, and the page fallback runs only where no route matched, never under the API's
 * own prefixes, and only for requests that accept HTML — a script asking for a missing
 * `/v1/…` path still gets the JSON 404.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the server, never to the web app's pages. */
const SERVER_PATHS = /^\/(v1|docs|healthz|readyz|metrics)(\/|$)/;

/** Answers a request with the app's page and returns true, or returns false and leaves it alone. */
export type PageFallback = (req: FastifyRequest, reply: FastifyReply) => boolean;

/** Whether `dir` holds a built web app. */
export function hasWebApp(dir: string | undefined): dir is string {
  return !!dir && existsSync(path.join(dir, 'index.html'));
}

/**
 * Register the web app's files (when `dir` holds a build) and return the page fallback for
 * the not-found handler, or null when there is nothing to serve.
 */
export async function registerWebApp(app: FastifyInstance, dir: string | undefined): Promise<PageFallback | null> {
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
  return (req, reply) => {
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
}

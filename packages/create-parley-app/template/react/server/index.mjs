// The app's backend: signs people in and hands their browser a Parley token, made with
// @parley/node. It also serves the front end: through Vite while you work (`npm run dev`), the
// built files of `npm run build` otherwise (`npm start`).
//
// Sign-in here is a name and nothing else, so the app runs at once: put your own sign-in in
// `POST /api/session` before anyone else uses it.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parley } from '@parley/node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 5173);
const parleyUrl = process.env.PARLEY_URL ?? 'http://127.0.0.1:3000';
const saved = path.join(root, '.parley-app.json');

/**
 * The app's key and secret: from the environment, or kept from an earlier start, or (the first
 * time) a new app made through Parley's admin API with the admin token `parley start` keeps.
 */
async function credentials() {
  if (process.env.PARLEY_API_KEY && process.env.PARLEY_API_SECRET)
    return { apiKey: process.env.PARLEY_API_KEY, apiSecret: process.env.PARLEY_API_SECRET };
  try {
    return JSON.parse(await readFile(saved, 'utf8'));
  } catch {}
  let admin = process.env.PARLEY_ADMIN_TOKEN;
  if (!admin) {
    const file = path.join(process.env.PARLEY_DATA_DIR ?? path.join(root, '.parley'), 'admin-token');
    admin = (await readFile(file, 'utf8').catch(() => '')).trim();
  }
  if (!admin)
    throw new Error(
      'No PARLEY_API_KEY/PARLEY_API_SECRET, and no admin token to create an app with: run `npx parley start` here first (or set them in .env)',
    );
  const res = await fetch(new URL('/v1/admin/apps', parleyUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: '{{name}}' }),
  });
  if (!res.ok) throw new Error(`Parley at ${parleyUrl} refused to create the app: ${res.status} ${await res.text()}`);
  const app = await res.json();
  const creds = { apiKey: app.api_key, apiSecret: app.api_secret };
  await writeFile(saved, JSON.stringify(creds, null, 2), { mode: 0o600 });
  console.log(`created a Parley app (${app.id}); its credentials are in .parley-app.json`);
  return creds;
}

const { apiKey, apiSecret } = await credentials();
const parley = new Parley({ url: parleyUrl, apiKey, apiSecret });

/** A user id from a display name: `Ada Lovelace` → `ada-lovelace`. */
const idOf = (name) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);

/** `POST /api/session {name}`: the user, their token, and where Parley is. */
async function session(body) {
  const name = typeof body?.name === 'string' ? body.name.trim().slice(0, 80) : '';
  const id = idOf(name);
  if (!id) return { status: 400, body: { error: 'Say your name' } };
  await parley.users.upsert([{ id, name }]);
  // Everyone meets in #general; the first person in makes it.
  await parley.channels.ensure({ type: 'public', id: 'general', name: 'General', created_by: id });
  await parley.channels.addMembers('public:general', [id]);
  const token = await parley.createToken(id, { expiresIn: '12h' });
  return { status: 200, body: { user_id: id, token, api_key: apiKey, url: parleyUrl } };
}

const vite = dev
  ? await (await import('vite')).createServer({ root, server: { middlewareMode: true }, appType: 'spa' })
  : null;
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

async function serveBuilt(req, res) {
  const dist = path.join(root, 'dist');
  const wanted = path.normalize(path.join(dist, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  const file = wanted.startsWith(dist) && path.extname(wanted) ? wanted : path.join(dist, 'index.html');
  try {
    const data = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(data);
  } catch {
    res.writeHead(404).end('Not found: run `npm run build` first, or `npm run dev`');
  }
}

createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/api/session') {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    try {
      const r = await session(JSON.parse(raw || '{}'));
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
    } catch (err) {
      console.error(err);
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err.message) }));
    }
    return;
  }
  if (vite) vite.middlewares(req, res);
  else await serveBuilt(req, res);
}).listen(port, () => console.log(`{{name}} on http://localhost:${port} (Parley at ${parleyUrl})`));

/**
 * What an app's backend would run beside Parley, alone in this process, on loopback: the
 * receiver of its webhooks, its before-send hook and (as a push service would) its Web Push
 * requests. It checks what a real receiver must, and counts it for the bench:
 *
 * - Webhooks (`POST /wh/<name>`): the signature over the raw body (`X-Parley-Signature`, the
 *   documented scheme and 5-minute window) with the secret the orchestrator gives it per path;
 *   a delivery id seen before is a duplicate; per channel, the `seq` of each first arrival must
 *   be above the last one's (order per channel). Delay: arrival − the event's `created_at`
 *   (the message's server time, set just before its commit).
 * - The before-send hook (`POST /before-send`): the signature too, then `{"action":"allow"}`.
 * - Web Push (`POST /push/<id>`, on its own HTTPS port as push services are, with a
 *   self-signed certificate the Parley under test is told to trust): answered 201, counted.
 *
 * Per path it can be told to answer slowly (`delayMs`) or to fail (`status`), as a receiver in
 * trouble would. Commands over IPC: `secret`, `answer`, `stats`, `reset`.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../packages/server/src/features/webhooks/signature.js';
import { selfSignedCert } from '../../packages/server/test/notifications/tls.js';
import { serve, serverCommon, stallMonitor } from '../lib/proc.js';

interface PathCounts {
  received: number;
  unique: number;
  duplicates: number;
  outOfOrder: number;
  badSignatures: number;
  /** Delays of first arrivals, ms. */
  delays: number[];
  firstAt: number;
  lastAt: number;
}

/** What `stats` answers per path (importable as a type: this file runs only as a child). */
export interface PathStats {
  received: number;
  unique: number;
  duplicates: number;
  outOfOrder: number;
  badSignatures: number;
  p50: number;
  p99: number;
  max: number;
  firstAt: number;
  lastAt: number;
}

/** What `stats` answers. */
export interface ReceiverStats {
  rss: number;
  cpu: NodeJS.CpuUsage;
  hooks: number;
  hookBadSignatures: number;
  pushes: number;
  connections: number;
  /** The longest this process's event loop was held up since the last reset, ms (every request waited as long). */
  stallMs: number;
  paths: Record<string, PathStats>;
}

const secrets = new Map<string, string>();
const answers = new Map<string, { status: number; delayMs: number }>();
const stats = new Map<string, PathCounts>();
const seen = new Set<string>();
const lastSeq = new Map<string, number>();
let hooks = 0;
let hookBadSignatures = 0;
let pushes = 0;
const stalls = stallMonitor();

function statsOf(path: string): PathCounts {
  let s = stats.get(path);
  if (!s) {
    s = { received: 0, unique: 0, duplicates: 0, outOfOrder: 0, badSignatures: 0, delays: [], firstAt: 0, lastAt: 0 };
    stats.set(path, s);
  }
  return s;
}

function webhook(path: string, req: http.IncomingMessage, raw: string, now: number): void {
  const s = statsOf(path);
  s.received++;
  const secret = secrets.get(path);
  if (!secret || !verifySignature(secret, req.headers['x-parley-signature'] as string, raw)) s.badSignatures++;
  const id = String(req.headers['x-parley-delivery']);
  if (seen.has(id)) {
    s.duplicates++;
    return;
  }
  seen.add(id);
  s.unique++;
  const body = JSON.parse(raw) as { created_at: string; event: { cid?: string; seq?: number } };
  s.delays.push(now - Date.parse(body.created_at));
  if (s.firstAt === 0) s.firstAt = now;
  s.lastAt = now;
  const { cid, seq } = body.event;
  if (cid !== undefined && typeof seq === 'number') {
    const key = `${path}\n${cid}`;
    if (seq <= (lastSeq.get(key) ?? 0)) s.outOfOrder++;
    lastSeq.set(key, Math.max(seq, lastSeq.get(key) ?? 0));
  }
}

const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    let status = 200;
    let body = '{}';
    if (path.startsWith('/wh/')) webhook(path, req, raw, now);
    else if (path === '/before-send') {
      hooks++;
      const secret = secrets.get(path);
      if (!secret || !verifySignature(secret, req.headers['x-parley-signature'] as string, raw)) hookBadSignatures++;
      body = '{"action":"allow"}';
    } else if (path.startsWith('/push/')) {
      pushes++;
      status = 201;
    } else status = 404;
    const a = answers.get(path);
    if (a) status = a.status;
    const reply = () => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    if (a?.delayMs) setTimeout(reply, a.delayMs);
    else reply();
  });
};
const tls = selfSignedCert();
/** TCP connections accepted (a sender that keeps its connections alive opens few). */
let connections = 0;
const listen = async (server: http.Server) => {
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
};
const port = await listen(http.createServer(handle));
const pushPort = await listen(https.createServer({ key: tls.key, cert: tls.cert }, handle));

const q = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

const info = {
  url: `http://127.0.0.1:${port}`,
  host: `127.0.0.1:${port}`,
  /** Web Push: where subscriptions point, and the certificate to trust for it. */
  pushUrl: `https://127.0.0.1:${pushPort}`,
  pushHost: `127.0.0.1:${pushPort}`,
  ca: tls.cert,
};
serve(
  {
    ...serverCommon,
    info: () => info,
    /** The signing secret of a path (a webhook endpoint's, or the before-send hook's). */
    secret: (a: { path: string; secret: string }) => {
      secrets.set(a.path, a.secret);
      return null;
    },
    /** How a path answers from now on: a status, after a delay (null: 200 at once). */
    answer: (a: { path: string; status?: number; delayMs?: number } | null) => {
      if (a && (a.status !== undefined || a.delayMs !== undefined))
        answers.set(a.path, { status: a.status ?? 200, delayMs: a.delayMs ?? 0 });
      else if (a) answers.delete(a.path);
      return null;
    },
    /** Counts per path, with the delay's percentiles (ms), and the hook and push counts. */
    stats: () => ({
      rss: process.memoryUsage().rss,
      cpu: process.cpuUsage(),
      hooks,
      hookBadSignatures,
      pushes,
      connections,
      stallMs: stalls.stallMs(),
      paths: Object.fromEntries(
        [...stats].map(([p, s]) => {
          const sorted = [...s.delays].sort((a, b) => a - b);
          return [
            p,
            {
              received: s.received,
              unique: s.unique,
              duplicates: s.duplicates,
              outOfOrder: s.outOfOrder,
              badSignatures: s.badSignatures,
              p50: q(sorted, 0.5),
              p99: q(sorted, 0.99),
              max: sorted.at(-1) ?? Number.NaN,
              firstAt: s.firstAt,
              lastAt: s.lastAt,
            },
          ];
        }),
      ),
    }),
    reset: () => {
      stats.clear();
      seen.clear();
      lastSeq.clear();
      hooks = 0;
      hookBadSignatures = 0;
      pushes = 0;
      connections = 0;
      stalls.reset();
      return null;
    },
  },
  info,
);

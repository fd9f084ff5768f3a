/**
 * Link previews: how long from a send to the card on another client's socket (the unfurl job:
 * page fetch and parse, og:image fetched and thumbnailed, the message updated, message.updated
 * delivered), for links never seen (cache misses) and for a link already cached (hits), with
 * all messages sent at once, so the numbers include the job queue's wait.
 *
 *   node --conditions=@parley/source --import tsx bench/previews.ts [--links 20] [--poll 100] [--json FILE]
 *
 * Embedded PGlite; the pages come from a local HTTP server that the preview fetcher's test
 * allow-list names; loopback only. Timings on a shared machine swing 2–5×.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { startHarness, TestSocket } from '../packages/server/test/harness.js';

const { values } = parseArgs({
  options: {
    links: { type: 'string', default: '20' },
    poll: { type: 'string', default: '100' },
    json: { type: 'string' },
  },
});
const LINKS = Number(values.links);

const png = await sharp({ create: { width: 1200, height: 630, channels: 3, background: '#3070c0' } })
  .png()
  .toBuffer();
const pages = http.createServer((req, res) => {
  if (req.url === '/og.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    return res.end(png);
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(
    `<html><head><title>Page ${req.url}</title><meta property="og:title" content="Page ${req.url}">` +
      '<meta property="og:description" content="A page for the benchmark"><meta property="og:image" content="/og.png">' +
      `</head><body>${'<p>text</p>'.repeat(2000)}</body></html>`,
  );
});
await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
const port = (pages.address() as AddressInfo).port;
const site = `http://127.0.0.1:${port}`;

const h = await startHarness({
  jobPollMs: Number(values.poll),
  previewAllowHosts: [`127.0.0.1:${port}`],
  previewFetchesPerMinute: 0, // one user sends every link here
});
const rows: Record<string, unknown>[] = [];
try {
  const base = await h.listen();
  const app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
  const headers = await app.user('alice');
  await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers,
    payload: { type: 'group', id: 'bench', members: ['bob'] },
  });
  const bob = await TestSocket.connect(base, app, 'bob');

  const round = async (what: string, url: (i: number) => string) => {
    const start = performance.now();
    const sent = await Promise.all(
      Array.from({ length: LINKS }, async (_, i) => {
        const t = performance.now();
        const r = await h.call({
          method: 'POST',
          url: '/v1/channels/group:bench/messages',
          headers,
          payload: { text: `see ${url(i)}` },
        });
        return { id: r.body.message.id as string, t };
      }),
    );
    const ms = await Promise.all(
      sent.map(async ({ id, t }) => {
        await bob.waitFor(
          (f) => f.type === 'message.updated' && f.message.id === id && f.message.previews.length,
          120_000,
        );
        return performance.now() - t;
      }),
    );
    const total = (performance.now() - start) / 1000;
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] as number;
    const row = { what, links: LINKS, p50_ms: q(0.5), p95_ms: q(0.95), max_ms: q(1), cards_per_s: LINKS / total };
    rows.push(row);
    console.log(
      `${what.padEnd(34)} ${LINKS} links  p50 ${row.p50_ms.toFixed(0)} ms  p95 ${row.p95_ms.toFixed(0)} ms  ` +
        `${row.cards_per_s.toFixed(1)} cards/s`,
    );
  };

  await round('cache misses (page + image)', (i) => `${site}/page/${i}`);
  await round('cache hits (one link, cached)', () => `${site}/page/0`);
  bob.close();
} finally {
  await h.close();
  pages.closeAllConnections();
  await new Promise((r) => pages.close(r));
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));

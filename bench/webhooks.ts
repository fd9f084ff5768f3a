/**
 * Webhook deliveries on PostgreSQL: how many per second one node sustains, and their delay
 * from commit (the message's server timestamp) to arrival at a receiver.
 *
 *   node --conditions=@parley/source --import tsx bench/webhooks.ts [--seconds 20] [--rate 200]
 *        [--channels 8] [--endpoints 1]
 *
 * One server in this process on a scratch PostgreSQL database (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test), one receiver on loopback answering 200 at once,
 * `--endpoints` endpoints wanting `message.new` (0: none, the baseline a send with endpoints
 * is compared with: send latency, and CPU per send of the whole process, deliveries included). Messages are sent over HTTP at `--rate` a
 * second, spread over `--channels` channels (a channel's deliveries to an endpoint are serial,
 * so channels are the parallelism), for `--seconds`; then it waits for every delivery. Prints a
 * table. Everything it made is removed at the end.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildServer, defaultConfig, NO_HTTP_LIMITS, signToken } from '../packages/server/src/index.js';
import { fmt, load, ms, progress, sleep, table } from './lib/report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '200' },
    channels: { type: 'string', default: '8' },
    endpoints: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const channels = Number(values.channels);
const endpoints = Number(values.endpoints);
const baseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `parley_bench_webhooks_${process.pid}`;
const log = (m: string) => progress('webhooks', m);

const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`drop database if exists ${dbName} with (force)`);
await admin.query(`create database ${dbName}`);
const u = new URL(baseUrl);
u.pathname = `/${dbName}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-wh-'));

// The receiver: delay from the event's timestamp to arrival, once per delivery.
const delays: number[] = [];
const seen = new Set<string>();
let lastAt = 0;
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const id = String(req.headers['x-parley-delivery']);
    if (!seen.has(id)) {
      seen.add(id);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { created_at: string };
      delays.push(now - Date.parse(body.created_at));
      lastAt = now;
    }
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
const rport = (receiver.address() as AddressInfo).port;

const server = await buildServer(
  defaultConfig({
    databaseUrl: u.toString(),
    dataDir,
    port: 0,
    host: '127.0.0.1',
    adminToken: 'bench-admin',
    logLevel: 'silent',
    rateMessages: 0,
    httpLimits: NO_HTTP_LIMITS,
    jobPollMs: 200,
    webhookAllowHosts: [`127.0.0.1:${rport}`],
  }),
  { logger: false },
);
const base = await server.app.listen({ port: 0, host: '127.0.0.1' });

async function call(method: string, url: string, headers: Record<string, string>, body?: object) {
  const r = await fetch(`${base}${url}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<any>;
}

try {
  log(`PostgreSQL scratch database ${dbName}; load ${load()}`);
  const app = await call('POST', '/v1/admin/apps', { authorization: 'Bearer bench-admin' }, { name: 'bench' });
  const srv = { 'x-api-key': app.api_key, authorization: `Bearer ${await signToken(app.api_secret, null)}` };
  const users = Array.from({ length: channels }, (_, i) => `u${i}`);
  await call('POST', '/v1/users', srv, { users: users.map((id) => ({ id, name: id })) });
  const heads = await Promise.all(
    users.map(async (id) => ({
      'x-api-key': app.api_key,
      authorization: `Bearer ${await signToken(app.api_secret, id)}`,
    })),
  );
  for (let i = 0; i < channels; i++)
    await call('POST', '/v1/channels', heads[i] as Record<string, string>, { type: 'group', id: `c${i}`, members: [] });
  for (let e = 0; e < endpoints; e++)
    await call('POST', '/v1/webhooks', srv, { url: `http://127.0.0.1:${rport}/e${e}`, events: ['message.new'] });

  log(`sending ${rate}/s over ${channels} channels to ${endpoints} endpoint(s) for ${seconds} s`);
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const sendMs: number[] = [];
  let sent = 0;
  let failed = 0;
  const inflight = new Set<Promise<void>>();
  for (let tick = 0; Date.now() - t0 < seconds * 1000; tick++) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    while (sent + failed + inflight.size < due && inflight.size < 256) {
      const i = (sent + failed + inflight.size) % channels;
      const began = performance.now();
      const p = call('POST', `/v1/channels/group:c${i}/messages`, heads[i] as Record<string, string>, {
        text: `m ${tick}`,
      })
        .then(
          () => {
            sent++;
            sendMs.push(performance.now() - began);
          },
          () => {
            failed++;
          },
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await sleep(5);
  }
  await Promise.all(inflight);
  const sendSeconds = (Date.now() - t0) / 1000;
  const want = sent * endpoints;
  log(`sent ${sent} in ${sendSeconds.toFixed(1)} s (${failed} failed); waiting for ${want} deliveries`);
  const waitUntil = Date.now() + 120_000;
  while (seen.size < want && Date.now() < waitUntil) await sleep(100);
  // The whole process (server, receiver, load): CPU of the run, deliveries included, per send.
  const cpu = process.cpuUsage(cpu0);
  const cpuPerSend = (cpu.user + cpu.system) / 1000 / Math.max(1, sent);
  const sendSorted = [...sendMs].sort((a, b) => a - b);
  const sq = (p: number) =>
    sendSorted[Math.min(sendSorted.length - 1, Math.floor(p * sendSorted.length))] ?? Number.NaN;

  const sorted = [...delays].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  const span = (lastAt - t0) / 1000;
  console.log(
    table(
      [
        'sends/s (achieved)',
        'send p50',
        'send p99',
        'CPU ms / send',
        'deliveries',
        'deliveries/s (first send → last arrival)',
        'p50 delay',
        'p99 delay',
        'max delay',
        'load avg',
      ],
      [
        [
          fmt(sent / sendSeconds),
          `${sq(0.5).toFixed(2)} ms`,
          `${sq(0.99).toFixed(2)} ms`,
          cpuPerSend.toFixed(2),
          `${fmt(seen.size)} / ${fmt(want)}`,
          fmt(seen.size / span),
          `${ms(q(0.5))} ms`,
          `${ms(q(0.99))} ms`,
          `${ms(sorted.at(-1) ?? Number.NaN)} ms`,
          load(),
        ],
      ],
    ),
  );
} finally {
  await server.app.close();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}

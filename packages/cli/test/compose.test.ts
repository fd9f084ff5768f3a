/**
 * deploy/container/compose.yaml, run as written by podman-compose: PostgreSQL, Redis, two Parley
 * nodes on the image deploy/container/build.sh makes, and nginx with the shipped nginx.conf, on
 * the compose network. No image registry is reachable from here, so the three official images
 * are stood in for by images made from Debian's packages (compose/stand-ins.sh), named through
 * the file's POSTGRES_IMAGE, REDIS_IMAGE and NGINX_IMAGE. It checks: every service runs and the
 * health checks pass; nginx answers the web app and the API and keeps /readyz inside; both nodes
 * are live on PostgreSQL; a message sent through nginx reaches sockets on both nodes (Redis
 * between them); with one node stopped nginx sends everything to the other; and after `down`
 * and `up` the message is still there (the volumes).
 *
 * Building takes minutes, so this runs only when asked, as container.test.ts does:
 * PARLEY_CONTAINER_TEST=1, or PARLEY_REQUIRE_CONTAINER=1 (missing tools fail rather than skip);
 * PARLEY_CONTAINER_IMAGE=<tag> uses a Parley image already built.
 *
 * podman-compose 1.0.3 (Debian 12) neither applies the network's subnet (made first, as
 * docs/deploy.md says) nor waits for `service_healthy`: the nodes start before PostgreSQL takes
 * connections, and wait for it. Every container gets explicit limits (a sandbox may refuse
 * podman's defaults) and runs with runc.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '../../server/src/platform/auth.js';
import { freePort, ROOT, until } from './chaos/infra.js';
import { parleyImage } from './container-image.js';

const run = promisify(execFile);
const REQUIRED = process.env.PARLEY_REQUIRE_CONTAINER === '1';
const WANTED = REQUIRED || process.env.PARLEY_CONTAINER_TEST === '1';
const onPath = (name: string) =>
  [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin'].some((d) => d && existsSync(path.join(d, name)));
const missing = ['podman', 'podman-compose', 'buildah', 'runc', 'mmdebstrap'].filter((t) => !onPath(t));
if (REQUIRED && missing.length)
  throw new Error(`PARLEY_REQUIRE_CONTAINER=1 but ${missing.join(', ')} is missing (apt-get install them)`);
if (WANTED && missing.length) console.warn(`compose test skipped: ${missing.join(', ')} is missing`);

const STAND_INS = 'localhost/parley-compose-test';
const PROJECT = `parleytest${process.pid}`;
/** compose.yaml's network and the subnet its nodes trust X-Forwarded-For from. */
const NETWORK = `${PROJECT}_parley`;
const SUBNET = '10.89.70.0/24';
const ADMIN_TOKEN = `padm_${randomBytes(24).toString('hex')}`;
const BIG = { maxBuffer: 64 * 1024 * 1024 };

describe.skipIf(!WANTED || missing.length > 0)('the compose stack (deploy/container/compose.yaml)', () => {
  let dir = '';
  let base = '';
  let app: { apiKey: string; secret: string };
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, CONTAINERS_CONF: path.join(dir, 'containers.conf') });
  const podman = (...args: string[]) => run('podman', args, { ...BIG, env: env() });
  const compose = (...args: string[]) =>
    run(
      'podman-compose',
      [
        // Explicit limits for every container: podman's defaults are above what a sandbox allows.
        '--podman-run-args=--ulimit nproc=1024:1024 --ulimit nofile=20000:20000',
        '-p',
        PROJECT,
        '-f',
        path.join(dir, 'compose.yaml'),
        ...args,
      ],
      { ...BIG, cwd: dir, env: env() },
    );
  const container = (service: string) => `${PROJECT}_${service}_1`;
  const admin = (url: string) =>
    fetch(`${base}${url}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then(
      async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }),
      () => ({ status: 0, body: null }),
    );

  /** Until both nodes answer through nginx (each request goes to the next node). */
  async function bothAnswering(timeoutMs: number): Promise<void> {
    const seen = new Set<string>();
    try {
      await waitBoth(seen, timeoutMs);
    } catch (err) {
      // What each container was doing, to tell why.
      for (const s of ['postgres', 'redis', 'parley-1', 'parley-2', 'nginx']) {
        const state = await podman('inspect', '--format', '{{.State.Status}}', container(s)).catch(() => null);
        const logs = await podman('logs', '--tail', '15', container(s)).catch(() => null);
        console.error(`--- ${s}: ${state?.stdout.trim()}\n${logs?.stdout ?? ''}${logs?.stderr ?? ''}`);
      }
      throw err;
    }
  }

  async function waitBoth(seen: Set<string>, timeoutMs: number): Promise<void> {
    await until(
      async () => {
        const r = await admin('/v1/admin/system');
        if (r.status === 200) seen.add(r.body.node.id);
        return seen.has('parley-1') && seen.has('parley-2');
      },
      timeoutMs,
      `both nodes through nginx (seen: ${[...seen].join(', ') || 'none'})`,
      500,
    );
  }

  beforeAll(async () => {
    const image = await parleyImage();
    await run(path.join(ROOT, 'packages/cli/test/compose/stand-ins.sh'), [STAND_INS], {
      ...BIG,
      timeout: 30 * 60_000,
    });

    dir = mkdtempSync(path.join(tmpdir(), 'parley-compose-'));
    for (const f of ['compose.yaml', 'nginx.conf', 'nginx-watch.sh'])
      copyFileSync(path.join(ROOT, 'deploy/container', f), path.join(dir, f));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // The operator's .env (env.example's secrets), and the stand-ins in place of the official images.
    writeFileSync(
      path.join(dir, '.env'),
      [
        `POSTGRES_PASSWORD=${randomBytes(12).toString('hex')}`,
        `PARLEY_MASTER_KEY=${randomBytes(32).toString('hex')}`,
        `PARLEY_ADMIN_TOKEN=${ADMIN_TOKEN}`,
        `PARLEY_IMAGE=${image}`,
        `POSTGRES_IMAGE=${STAND_INS}-postgres:15`,
        `REDIS_IMAGE=${STAND_INS}-redis:7`,
        `NGINX_IMAGE=${STAND_INS}-nginx:1.22`,
        `PARLEY_HTTP_PORT=${port}`,
        'PARLEY_NOFILE=20000',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'containers.conf'), '[engine]\nruntime = "runc"\n');
    await podman('network', 'rm', '--force', NETWORK).catch(() => {});
    await podman('network', 'create', '--subnet', SUBNET, NETWORK);
    const t1 = Date.now();
    await compose('up', '-d');
    await bothAnswering(180_000);
    console.log(`compose test: both nodes answering through nginx ${((Date.now() - t1) / 1000).toFixed(1)} s after up`);

    const made = await fetch(`${base}/v1/admin/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'compose' }),
    });
    expect(made.status).toBe(200);
    const body = (await made.json()) as { api_key: string; api_secret: string };
    app = { apiKey: body.api_key, secret: body.api_secret };
  }, 40 * 60_000);

  afterAll(async () => {
    if (!dir) return;
    await compose('down', '-v').catch(() => {});
    await podman(
      'rm',
      '--force',
      '--volumes',
      '--time',
      '0',
      ...['postgres', 'redis', 'parley-1', 'parley-2', 'nginx'].map(container),
    ).catch(() => {});
    await podman('volume', 'rm', '--force', `${PROJECT}_postgres-data`, `${PROJECT}_parley-data`).catch(() => {});
    await podman('network', 'rm', '--force', NETWORK).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  async function as(user: string | null, method: string, url: string, body?: unknown): Promise<Response> {
    return fetch(`${base}${url}`, {
      method,
      headers: {
        'x-api-key': app.apiKey,
        authorization: `Bearer ${await signToken(app.secret, user)}`,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  it('runs every service, and the health checks of PostgreSQL, Redis and both nodes pass', async () => {
    for (const s of ['postgres', 'redis', 'parley-1', 'parley-2', 'nginx'])
      expect((await podman('inspect', '--format', '{{.State.Status}}', container(s))).stdout.trim()).toBe('running');
    // Exits non-zero when unhealthy (podman runs it here: no systemd timer in a sandbox).
    for (const s of ['postgres', 'redis', 'parley-1', 'parley-2']) await podman('healthcheck', 'run', container(s));
    expect((await podman('exec', container('parley-1'), 'id', '-u')).stdout.trim()).toBe('10001');
  });

  it('nginx serves the web app and the API, and keeps /readyz and /metrics inside', async () => {
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    for (const p of ['/readyz', '/metrics']) expect((await fetch(`${base}${p}`)).status).toBe(403);
    // Inside the network each node is ready on PostgreSQL.
    for (const s of ['parley-1', 'parley-2']) {
      const { stdout } = await podman(
        'exec',
        container(s),
        'node',
        '-e',
        "fetch('http://127.0.0.1:3000/readyz').then((r) => r.text()).then((t) => process.stdout.write(t))",
      );
      expect(JSON.parse(stdout)).toEqual({ ok: true, database: 'postgres' });
    }
    const system = await admin('/v1/admin/system');
    expect(system.body.database.kind).toBe('postgres');
    const live = (system.body.nodes as { id: string; live: boolean }[]).filter((n) => n.live).map((n) => n.id);
    expect(live).toEqual(expect.arrayContaining(['parley-1', 'parley-2']));
  });

  it('a message sent through nginx reaches sockets on both nodes', async () => {
    expect(
      (
        await as(null, 'POST', '/v1/users', {
          users: [
            { id: 'ann', name: 'Ann' },
            { id: 'ben', name: 'Ben' },
          ],
        })
      ).status,
    ).toBe(200);
    expect(
      (await as('ann', 'POST', '/v1/channels', { type: 'group', id: 'box', members: ['ann', 'ben'] })).status,
    ).toBe(200);
    // Four sockets through nginx, which hands each new connection to the next node in turn.
    const sockets = [];
    for (let i = 0; i < 4; i++) {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/ws?api_key=${app.apiKey}`);
      const frames: { type: string; message?: { id: string; text: string } }[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ type: 'auth', token: await signToken(app.secret, 'ben') }));
      await until(() => frames.some((f) => f.type === 'hello'), 10_000, 'hello');
      sockets.push({ ws, frames });
    }
    // Each node holds some of them (its own count, as /v1/admin/system's answering node tells).
    const held = new Map<string, number>();
    await until(
      async () => {
        const r = await admin('/v1/admin/system');
        if (r.status === 200) held.set(r.body.node.id, r.body.node.connections);
        return (held.get('parley-1') ?? 0) > 0 && (held.get('parley-2') ?? 0) > 0;
      },
      20_000,
      'sockets on both nodes',
      200,
    );
    const id = uuidv7();
    expect((await as('ann', 'POST', '/v1/channels/group:box/messages', { id, text: 'through compose' })).status).toBe(
      200,
    );
    for (const s of sockets) {
      const got = await until(
        () => s.frames.find((f) => f.type === 'message.new' && f.message?.id === id),
        10_000,
        'message.new on every socket',
      );
      expect(got?.message?.text).toBe('through compose');
      s.ws.close();
    }
  });

  it('with one node stopped, nginx sends everything to the other; started again (a new address), it takes its share', async () => {
    const address = async () =>
      (
        await podman(
          'inspect',
          '--format',
          '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
          container('parley-1'),
        )
      ).stdout.trim();
    const before = await address();
    await podman('stop', '--time', '30', container('parley-1'));
    expect(
      JSON.parse((await podman('inspect', '--format', '{{json .State}}', container('parley-1'))).stdout).ExitCode,
    ).toBe(0);
    for (let i = 0; i < 6; i++) {
      const r = await as('ann', 'POST', '/v1/channels/group:box/messages', {
        id: uuidv7(),
        text: `while one is out ${i}`,
      });
      expect(r.status).toBe(200);
    }
    await podman('start', container('parley-1'));
    // nginx looked parley-1 up when it started: its watcher (nginx-watch.sh) reloads it.
    console.log(`compose test: parley-1 was ${before}, is ${await address()}`);
    await bothAnswering(120_000);
  }, 300_000);

  it('after down and up, the messages are still there (the volumes)', async () => {
    await compose('down');
    // podman-compose 1.0.3 may take the network with it; made again with its subnet.
    if (
      await podman('network', 'exists', NETWORK).then(
        () => false,
        () => true,
      )
    )
      await podman('network', 'create', '--subnet', SUBNET, NETWORK);
    await compose('up', '-d');
    await bothAnswering(180_000);
    const r = await as('ben', 'GET', '/v1/channels/group:box/messages?limit=50');
    expect(r.status).toBe(200);
    const texts = ((await r.json()) as { messages: { text: string }[] }).messages.map((m) => m.text);
    expect(texts).toContain('through compose');
    expect(texts.filter((t) => t.startsWith('while one is out'))).toHaveLength(6);
  }, 300_000);
});

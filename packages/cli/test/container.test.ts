/**
 * The container image (deploy/container/): deploy/container/build.sh builds it with buildah from
 * a Debian base it makes with mmdebstrap, and podman runs two of it on PostgreSQL and Redis,
 * behind Debian's nginx with the shipped configuration (deploy/nginx/parley.conf) — as
 * compose.yaml arranges them, with this machine's PostgreSQL, a private Redis and nginx in place
 * of their images (no image registry is reachable from here). It checks: the entrypoint starts
 * `parley start` as uid 10001, the image's HEALTHCHECK passes, /readyz sees PostgreSQL, a
 * message sent through nginx reaches a socket on the other container (Redis between them), and
 * `podman stop` drains a node to exit 0.
 *
 * Building takes minutes, so this runs only when asked: PARLEY_CONTAINER_TEST=1, or
 * PARLEY_REQUIRE_CONTAINER=1, which also makes missing tools a failure rather than a skip.
 * PARLEY_CONTAINER_IMAGE=<tag> tests an image already built instead.
 * Containers run with runc (crun fails in some sandboxes) and explicit ulimits.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '../../server/src/platform/auth.js';
import { haveNginx, type Nginx, startNginx } from '../../server/test/nginx.js';
import { closeAll, freePort, PrivateRedis, redisServerBinary, scratchDatabase, until } from './chaos/infra.js';
import { parleyImage } from './container-image.js';

const run = promisify(execFile);
const REQUIRED = process.env.PARLEY_REQUIRE_CONTAINER === '1';
const WANTED = REQUIRED || process.env.PARLEY_CONTAINER_TEST === '1';
const PG_URL = process.env.PARLEY_CHAOS_PG_URL || process.env.PARLEY_TEST_PG_URL || process.env.DATABASE_URL || '';
const onPath = (name: string) =>
  [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin'].some((d) => d && existsSync(path.join(d, name)));
const missing = [
  ...['podman', 'buildah', 'runc'].filter((t) => !onPath(t)),
  ...(redisServerBinary() ? [] : ['redis-server']),
  ...(haveNginx ? [] : ['nginx']),
  ...(PG_URL ? [] : ['a PostgreSQL (DATABASE_URL)']),
];
if (REQUIRED && missing.length)
  throw new Error(
    `PARLEY_REQUIRE_CONTAINER=1 but ${missing.join(', ')} is missing (deploy/container/build.sh says what to install)`,
  );
if (WANTED && missing.length) console.warn(`container test skipped: ${missing.join(', ')} is missing`);

/** Built once for the run's container tests (container-image.ts), or PARLEY_CONTAINER_IMAGE. */
let IMAGE = '';
const ADMIN_TOKEN = `padm_${'c0'.repeat(24)}`;
const podman = (...args: string[]) => run('podman', ['--runtime', 'runc', ...args], { maxBuffer: 64 * 1024 * 1024 });

describe.skipIf(!WANTED || missing.length > 0)('the container image (deploy/container/)', () => {
  const names = [`parley-test-${process.pid}-1`, `parley-test-${process.pid}-2`];
  const ports: number[] = [];
  let nginx: Nginx;
  let app: { apiKey: string; secret: string };

  beforeAll(async () => {
    IMAGE = await parleyImage();

    const db = await scratchDatabase(PG_URL);
    const limits = (await run('sh', ['-c', 'ulimit -Hn'])).stdout.trim();
    const redis = new PrivateRedis(redisServerBinary() as string);
    await redis.start();
    for (const name of names) {
      const port = await freePort();
      ports.push(port);
      // The host's network: the nodes reach this machine's PostgreSQL and Redis on loopback, and
      // nginx reaches them there.
      await podman(
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'host',
        // Explicit limits: podman's defaults may be higher than a sandbox lets a container have.
        '--ulimit',
        `nofile=${limits}:${limits}`,
        '--ulimit',
        'nproc=1024:1024',
        '--read-only',
        '--tmpfs',
        '/tmp',
        '-e',
        'HOST=127.0.0.1',
        '-e',
        `PORT=${port}`,
        '-e',
        `PARLEY_NODE_ID=${name}`,
        '-e',
        `DATABASE_URL=${db.url}`,
        '-e',
        `REDIS_URL=${redis.url}`,
        '-e',
        `PARLEY_MASTER_KEY=${'e5'.repeat(32)}`,
        '-e',
        `PARLEY_ADMIN_TOKEN=${ADMIN_TOKEN}`,
        '-e',
        'PARLEY_TRUST_PROXY=127.0.0.1',
        IMAGE,
      );
    }
    const t1 = Date.now();
    for (const [i, port] of ports.entries())
      await until(
        async () => {
          const state = JSON.parse((await podman('inspect', '--format', '{{json .State}}', names[i] as string)).stdout);
          if (!state.Running)
            throw new Error(`${names[i]} stopped: ${(await podman('logs', names[i] as string)).stderr}`);
          return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
        },
        120_000,
        `${names[i]} to be ready`,
        250,
      );
    console.log(`container test: both nodes ready ${((Date.now() - t1) / 1000).toFixed(1)} s after start`);
    nginx = await startNginx(ports as [number, number]);

    const made = (await (
      await nginx.fetch(`${nginx.url}/v1/admin/apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'container' }),
      })
    ).json()) as { api_key: string; api_secret: string };
    app = { apiKey: made.api_key, secret: made.api_secret };
  }, 40 * 60_000);

  afterAll(async () => {
    await nginx?.close();
    await podman('rm', '--force', '--volumes', '--time', '0', ...names).catch(() => {});
    await closeAll();
  });

  async function as(user: string | null, method: string, url: string, body?: unknown): Promise<Response> {
    const token = await signToken(app.secret, user);
    return (await nginx.fetch(url, {
      method,
      headers: { 'x-api-key': app.apiKey, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })) as unknown as Response;
  }

  it('runs `parley start` as uid 10001 with a HEALTHCHECK on /healthz that passes', async () => {
    const [image] = JSON.parse((await podman('image', 'inspect', IMAGE)).stdout);
    const config = image.Config;
    expect(config.User).toBe('10001:10001');
    expect(config.Entrypoint).toEqual(['node', '/opt/parley/packages/cli/bin/parley.mjs']);
    expect(config.Cmd).toEqual(['start', '--workers', '1']);
    const health = image.Healthcheck;
    expect(health.Test.join(' ')).toContain('healthcheck.mjs');
    for (const name of names) {
      expect((await podman('exec', name, 'id', '-u')).stdout.trim()).toBe('10001');
      // The process the entrypoint started is the node itself, as that user.
      expect((await podman('top', name, 'user', 'args')).stdout).toMatch(
        /^(parley|10001)\s+node \/opt\/parley\/packages\/cli\/bin\/parley\.mjs start/m,
      );
      await podman('healthcheck', 'run', name); // exits non-zero when unhealthy
    }
    // The check itself fails on a port nothing answers.
    await expect(
      podman('exec', '-e', 'PORT=1', names[0] as string, 'node', '/opt/parley/deploy/container/healthcheck.mjs'),
    ).rejects.toThrow();
  });

  it('both nodes answer /readyz on PostgreSQL, and the web app through nginx', async () => {
    for (const port of ports) {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await r.json()).toEqual({ ok: true, database: 'postgres' });
    }
    const page = await nginx.fetch(`${nginx.url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });

  it('a message sent through nginx reaches a socket on each container', async () => {
    const users = await as(null, 'POST', `${nginx.url}/v1/users`, {
      users: [
        { id: 'ann', name: 'Ann' },
        { id: 'ben', name: 'Ben' },
      ],
    });
    expect(users.status).toBe(200);
    const made = await as('ann', 'POST', `${nginx.url}/v1/channels`, {
      type: 'group',
      id: 'box',
      members: ['ann', 'ben'],
    });
    expect(made.status).toBe(200);

    // Ben on each container directly: whichever node takes the send, the other learns of it by Redis.
    const sockets = await Promise.all(
      ports.map(async (port) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?api_key=${app.apiKey}`);
        const frames: { type: string; message?: { id: string; text: string } }[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(String(d))));
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        ws.send(JSON.stringify({ type: 'auth', token: await signToken(app.secret, 'ben') }));
        await until(() => frames.some((f) => f.type === 'hello'), 10_000, 'hello');
        return { ws, frames };
      }),
    );
    const id = uuidv7();
    const sent = await as('ann', 'POST', `${nginx.url}/v1/channels/group:box/messages`, {
      id,
      text: 'from a container',
    });
    expect(sent.status).toBe(200);
    for (const s of sockets) {
      const got = await until(
        () => s.frames.find((f) => f.type === 'message.new' && f.message?.id === id),
        10_000,
        'message.new on each node',
      );
      expect(got?.message?.text).toBe('from a container');
      s.ws.close();
    }
  });

  it('`podman stop` drains a node: it exits 0', async () => {
    await podman('stop', '--time', '30', names[1] as string);
    const state = JSON.parse((await podman('inspect', '--format', '{{json .State}}', names[1] as string)).stdout);
    expect(state.ExitCode).toBe(0);
  });
});

/**
 * The TURN REST API credentials of `GET /v1/calls/ice-servers` against a real coturn
 * (Debian's `coturn`, started here on a loopback port with `--use-auth-secret`): the
 * credential allocates a relay, a forged one and an expired one are refused (401).
 * Skipped only where `turnserver` is not installed (`apt-get install coturn`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turnPassword } from '../../src/features/calls/ice.js';
import { defaultConfig } from '../../src/platform/config.js';
import { freePort } from '../free-port.js';
import { type Harness, startHarness, type TestApp } from '../harness.js';
import { turnAllocate } from './turn-client.js';

const TURNSERVER = '/usr/bin/turnserver';
const haveTurn = existsSync(TURNSERVER);
const SECRET = 'parley-test-turn-secret';

let turn: ChildProcess | null = null;
let port = 0;
let dir = '';
let h: Harness;
let app: TestApp;

beforeAll(async () => {
  if (!haveTurn) return;
  port = await freePort();
  dir = mkdtempSync(path.join(tmpdir(), 'parley-turn-'));
  const relayBase = 40_000 + (process.pid % 200) * 100;
  turn = spawn(
    TURNSERVER,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--relay-ip=127.0.0.1',
      `--min-port=${relayBase}`,
      `--max-port=${relayBase + 99}`,
      '--use-auth-secret',
      `--static-auth-secret=${SECRET}`,
      '--realm=parley.test',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      `--pidfile=${path.join(dir, 'turnserver.pid')}`,
      `--userdb=${path.join(dir, 'turndb')}`,
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Ready once it listens: poll with an unauthenticated Allocate, which it answers with 401.
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      await turnAllocate('127.0.0.1', port, 'x', 'y');
      break;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  h = await startHarness({
    calls: {
      ...defaultConfig().calls,
      turnUrls: [`turn:127.0.0.1:${port}?transport=udp`],
      turnSecret: SECRET,
      turnTtlSeconds: 600,
    },
  });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }]);
}, 60_000);

afterAll(async () => {
  turn?.kill('SIGTERM');
  if (h) await h.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveTurn)('TURN credentials against coturn', () => {
  it('a credential from /v1/calls/ice-servers allocates a relay; a forged or expired one is refused', async () => {
    const r = await h.call({ method: 'GET', url: '/v1/calls/ice-servers', headers: await app.user('alice') });
    expect(r.status).toBe(200);
    const turnServer = r.body.ice_servers.find((s: any) => s.urls[0].startsWith('turn:'));
    expect(turnServer.username).toMatch(/^\d+:alice$/);

    // The refusals first: an allocation lives on in coturn for its 5-tuple, and a later request
    // from a UDP port the system hands out again would be answered 437 (allocation mismatch), not
    // 401 (seen once in CI).
    const forged = await turnAllocate(
      '127.0.0.1',
      port,
      turnServer.username,
      turnPassword('not-the-secret', turnServer.username),
    );
    expect(forged).toEqual({ ok: false, code: 401 });

    // Signed with the right secret but expired a minute ago.
    const expiredUser = `${Math.floor(Date.now() / 1000) - 60}:alice`;
    const expired = await turnAllocate('127.0.0.1', port, expiredUser, turnPassword(SECRET, expiredUser));
    expect(expired).toEqual({ ok: false, code: 401 });

    const good = await turnAllocate('127.0.0.1', port, turnServer.username, turnServer.credential);
    expect(good).toEqual({ ok: true, relayed: { address: '127.0.0.1', port: expect.any(Number) } });
  });
});

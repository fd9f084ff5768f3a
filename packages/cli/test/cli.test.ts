/**
 * The `parley` command as an operator runs it: real child processes of
 * `node packages/cli/bin/parley.mjs`, a temporary data folder, a free loopback port.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cleanUp, freePort, JWT, type Proc, run, SLOW, startServer, stop, tempDir } from './spawn.js';

afterAll(cleanUp);

describe('parley start / app / token, across a restart', () => {
  let port: number;
  let data: string;
  let base: string;
  let server: Proc | null = null;
  let adminToken: string;
  let created: { id: string; api_key: string; api_secret: string };
  let offlineToken = '';

  beforeAll(async () => {
    port = await freePort();
    data = tempDir();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (server) await stop(server);
  });

  const admin = (method: string, p: string) =>
    fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${adminToken}` } });

  it(
    'start answers /healthz and prints the URL and, on first start, the admin token',
    async () => {
      server = await startServer(port, data);
      const out = server.out();
      expect(out).toContain(`Parley is running at ${base}`);
      const m = /Admin token \(kept in (.+)\/admin-token\): (\S+)/.exec(out);
      expect(m, out).not.toBeNull();
      adminToken = m![2]!;
      expect(readFileSync(path.join(data, 'admin-token'), 'utf8').trim()).toBe(adminToken);
      // Loopback only by default.
      expect(out).not.toMatch(/0\.0\.0\.0/);
      const r = await admin('GET', '/v1/admin/apps');
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ apps: [] });
    },
    SLOW,
  );

  it(
    'app create --json prints {id, api_key, api_secret}, made by the running server',
    async () => {
      const r = await run(['app', 'create', '--name', 'x', '--json', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      created = JSON.parse(r.out.trim());
      expect(Object.keys(created).sort()).toEqual(['api_key', 'api_secret', 'id']);
      // The running server knows it at once: it went through its admin API.
      const list = (await (await admin('GET', '/v1/admin/apps')).json()) as { apps: { id: string; name: string }[] };
      expect(list.apps).toEqual([expect.objectContaining({ id: created.id, name: 'x' })]);
    },
    SLOW,
  );

  it(
    'token --app --user prints a JWT the server accepts',
    async () => {
      const r = await run(['token', '--app', created.id, '--user', 'u1', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      const token = r.out.trim();
      expect(token).toMatch(JWT);
      const me = await fetch(`${base}/v1/me`, {
        headers: { 'x-api-key': created.api_key, authorization: `Bearer ${token}` },
      });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { id: string } }).user.id).toBe('u1');
    },
    SLOW,
  );

  it(
    'token for an unknown app through the running server: one line, no app with that id',
    async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      const r = await run(['token', '--app', id, '--user', 'u1', '--data', data]);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`parley: no app with id ${id} (parley app list shows them)\n`);
    },
    SLOW,
  );

  it(
    'SIGTERM closes sockets with 4005 and exits 0',
    async () => {
      const minted = await fetch(`${base}/v1/admin/apps/${created.id}/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'u2' }),
      });
      const { token } = (await minted.json()) as { token: string };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?api_key=${created.api_key}`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const hello = new Promise((resolve) => ws.once('message', resolve));
      ws.send(JSON.stringify({ type: 'auth', token }));
      await hello;
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

      const exit = await stop(server!);
      server = null;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await closed).toBe(4005);
    },
    SLOW,
  );

  it(
    'token works without a running server (straight from the data folder)',
    async () => {
      const r = await run(['token', '--app', created.id, '--user', 'u3', '--port', String(port), '--data', data]);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toMatch(JWT);
      offlineToken = r.out.trim(); // checked against the restarted server below
    },
    SLOW,
  );

  it(
    'a second start on the same data folder keeps apps, admin token and secrets',
    async () => {
      server = await startServer(port, data);
      expect(server.out()).not.toContain('Admin token');
      const fromFile = readFileSync(path.join(data, 'admin-token'), 'utf8').trim();
      expect(fromFile).toBe(adminToken);
      const r = await admin('GET', '/v1/admin/apps');
      expect(r.status).toBe(200);
      const body = (await r.json()) as { apps: { id: string; api_key: string }[] };
      expect(body.apps).toEqual([expect.objectContaining({ id: created.id, api_key: created.api_key })]);
      // The token minted offline is signed with the same (unsealed) secret.
      const me = await fetch(`${base}/v1/me`, {
        headers: { 'x-api-key': created.api_key, authorization: `Bearer ${offlineToken}` },
      });
      expect(me.status).toBe(200);
      expect((await stop(server)).code).toBe(0);
      server = null;
    },
    SLOW,
  );
});

describe('parley migrate', () => {
  it(
    'brings a fresh data folder up to every migration, then applies none',
    async () => {
      const data = tempDir();
      const first = await run(['migrate', '--data', data]);
      expect(first.code, first.err).toBe(0);
      const m = /(\d+) migration\(s\) applied; (\d+) in all/.exec(first.out);
      expect(m, first.out).not.toBeNull();
      expect(Number(m![2])).toBeGreaterThan(0);
      // A fresh folder starts as a copy of the migrated template (packages/server/src/platform/db/
      // template.ts), which may already hold all of them: the migrator applies only the newer ones.
      expect(Number(m![1])).toBeLessThanOrEqual(Number(m![2]));

      const second = await run(['migrate', '--data', data]);
      expect(second.code, second.err).toBe(0);
      expect(second.out).toMatch(new RegExp(`^0 migration\\(s\\) applied; ${m![2]} in all`, 'm'));
    },
    SLOW,
  );
});

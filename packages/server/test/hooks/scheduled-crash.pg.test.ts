/**
 * A scheduled message survives a SIGKILL of the server that was sending it, and is sent
 * exactly once — by a restarted node on PGlite, by one of two new nodes on PostgreSQL. The
 * first server is held mid-send by a before-send hook that does not answer (a real receiver
 * here), then killed; the receiver then allows, and the job's retry sends the message.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/platform/auth.js';
import { call, crashFixture, exited, readyChild } from '../crash-fixture.js';
import { backend } from '../harness.js';
import { until } from '../jobs/helpers.js';
import { type Receiver, startReceiver } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN = 'sched-crash-admin';
let rcv: Receiver;
beforeAll(async () => {
  rcv = await startReceiver();
});
afterAll(async () => {
  await rcv?.close();
});
const fixture = crashFixture('sched', ADMIN);

const child = () =>
  readyChild(fixture, path.join(here, 'scheduled-child.ts'), {
    PARLEY_JOB_MAINTENANCE_SECONDS: '1',
    PARLEY_RATE_MESSAGES: '0',
    HOOK_ALLOW: rcv.host,
  });

describe('a scheduled message and a crash', () => {
  it('is sent exactly once after the node sending it is killed', async () => {
    let hold = true;
    rcv.answer = () => (hold ? 'hang' : { status: 200, body: '{"action":"allow"}' });
    const first = child();
    const a = await first.ready;
    const created = await call(a, 'POST', '/v1/admin/apps', { authorization: `Bearer ${ADMIN}` }, { name: 'crash' });
    expect(created.status).toBe(200);
    const { api_key: key, api_secret: secret } = created.body;
    const server = { 'x-api-key': key, authorization: `Bearer ${await signToken(secret, null)}` };
    const alice = { 'x-api-key': key, authorization: `Bearer ${await signToken(secret, 'alice')}` };
    expect((await call(a, 'POST', '/v1/users', server, { users: [{ id: 'alice', name: 'Alice' }] })).status).toBe(200);
    expect((await call(a, 'POST', '/v1/channels', alice, { type: 'group', id: 'crash', members: [] })).status).toBe(
      200,
    );
    const hook = await call(a, 'PUT', '/v1/hooks/before-send', server, {
      url: `${rcv.url}/before-send`,
      timeout_ms: 10_000,
      fail_open: false,
    });
    expect(hook.status).toBe(200);
    const s = await call(a, 'POST', '/v1/scheduled-messages', alice, {
      cid: 'group:crash',
      text: 'exactly once, please',
      send_at: new Date(Date.now() + 1000).toISOString(),
    });
    expect(s.status).toBe(201);
    const messageId = s.body.scheduled_message.message_id as string;

    // The job is running on the first node, waiting on the hook: kill it there.
    await until(
      'the hook is asked',
      async () => rcv.on('/before-send').length,
      (n) => n >= 1,
      30_000,
    );
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    hold = false;

    // PGlite belongs to one process: one restarted node. PostgreSQL: two nodes at once.
    const next = backend === 'postgres' ? [child(), child()] : [child()];
    const urls = await Promise.all(next.map((c) => c.ready));
    const b = urls[0] as string;
    const sent = await until(
      'sent',
      async () => (await call(b, 'GET', '/v1/channels/group:crash/messages?limit=50', alice)).body.messages ?? [],
      (ms: any[]) => ms.some((m) => m.id === messageId),
      90_000,
    );
    await until(
      'marked sent',
      async () => (await call(b, 'GET', '/v1/scheduled-messages?cid=group:crash', alice)).body.scheduled_messages,
      (l: any[]) => l.length === 0,
      30_000,
    );
    // Give any second run time to show itself, then count.
    await new Promise((r) => setTimeout(r, 1500));
    for (const u of urls) {
      const ms = (await call(u, 'GET', '/v1/channels/group:crash/messages?limit=50', alice)).body.messages as any[];
      expect(ms.filter((m) => m.text === 'exactly once, please')).toHaveLength(1);
    }
    expect(sent.find((m: any) => m.id === messageId).user_id).toBe('alice');
    for (const c of next) c.proc.kill('SIGTERM');
    await Promise.all(next.map((c) => exited(c.proc)));
  }, 150_000);
});

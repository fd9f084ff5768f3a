/**
 * Who went away leaves the office: a user whose every connection is gone (on every node) keeps
 * their place for `spaces.awayMs`, then the `spaces.away` job takes them out, so they no longer
 * count against capacity. Three nodes on one database and one broker (Redis when REDIS_URL is
 * set); the job is durable, so it holds when the node that saw them go is gone itself.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/platform/db/index.js';
import { clusterBrokers, type Harness, startHarness, type TestApp, TestSocket, testDatabase } from '../harness.js';

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('away');

const POLL = { timeout: 20_000, interval: 100 };
let db: Awaited<ReturnType<typeof testDatabase>>;
let n1: Harness;
let n2: Harness;
let n3: Harness;
let app: TestApp;
const urls: string[] = [];
const sockets: TestSocket[] = [];

async function connect(node: 0 | 1 | 2, user: string): Promise<TestSocket> {
  const s = await TestSocket.connect(urls[node] as string, app, user);
  sockets.push(s);
  return s;
}
const ok = (reply: any) => {
  if (!reply.ok) throw new Error(`request failed: ${JSON.stringify(reply.error)}`);
  return reply;
};
async function rest(user: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return n2.call({ method, url, headers: await app.user(user), ...(payload ? { payload } : {}) });
}
const occupants = async (spaceId: string): Promise<string[]> => {
  const r = await rest('admin', 'GET', '/v1/spaces');
  return r.body.spaces.find((s: any) => s.id === spaceId).occupants.map((o: any) => o.user_id);
};
/** How many `spaces.away` jobs were armed for `userId`, in any state. */
const armed = async (userId: string): Promise<number> => {
  const [r] = await rows<{ n: number }>(
    db.database.db,
    sql`select count(*)::int as n from pgboss.job where name = 'spaces.away' and data->>'userId' = ${userId}`,
  );
  return r?.n ?? 0;
};
/** How many `spaces.away` jobs are done (completed), whatever they decided. */
const awayDone = async (): Promise<number> => {
  const [r] = await rows<{ n: number }>(
    db.database.db,
    sql`select count(*)::int as n from pgboss.job where name = 'spaces.away' and state = 'completed'`,
  );
  return r?.n ?? 0;
};

beforeAll(async () => {
  db = await testDatabase();
  // The grace is short for the test (the default is 5 minutes); offline comes 100 ms after the last close.
  const cfg = {
    masterKey: 'c'.repeat(64),
    // Without Redis each node's pool is its own view, and a sweep on one node would take users
    // connected to another for gone: the sweep is tested in dead-node.pg.test.ts.
    spaces: { quietMs: 0, inviteTimeoutMs: 30_000, awayMs: 2_000, ...(redisUrl ? {} : { sweepMs: 0 }) },
    presenceGraceMs: 100,
    jobPollMs: 100,
  };
  n1 = await startHarness({ ...cfg, nodeId: 'a1' }, { database: db.database, broker: await broker() });
  n2 = await startHarness({ ...cfg, nodeId: 'a2' }, { database: db.database, broker: await broker() });
  n3 = await startHarness({ ...cfg, nodeId: 'a3' }, { database: db.database, broker: await broker() });
  urls.push(await n1.listen(), await n2.listen(), await n3.listen());
  app = await n1.createApp();
  await n1.users(app, [
    { id: 'admin', name: 'Ada', role: 'admin' },
    ...['alice', 'bob', 'carol', 'dave'].map((id) => ({ id, name: id })),
  ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await n1.close();
  await n2.close();
  await n3.close().catch(() => {});
  await db.drop();
});

async function space(name: string, capacity: number | null = null): Promise<any> {
  const r = await n1.call({
    method: 'POST',
    url: '/v1/spaces',
    headers: await app.server(),
    payload: { name, capacity },
  });
  expect(r.status).toBe(200);
  return r.body.space;
}

describe(`away occupants leave the office (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('gone from every node: taken out after the grace, the place freed for someone else, watchers told', async () => {
    const desk = await space('Desk', 1);
    const watcher = await connect(1, 'admin');
    ok(await watcher.request('spaces.watch'));
    // Alice is connected twice — on two nodes where they pool presence (Redis; without it each
    // node's pool is its own view): closing one connection is not going away.
    const a1 = await connect(0, 'alice');
    const a2 = await connect(redisUrl ? 1 : 0, 'alice');
    ok(await a1.request('space.enter', { space_id: desk.id }));
    expect((await rest('bob', 'POST', `/v1/spaces/${desk.id}/enter`)).body.error.code).toBe('SPACE_FULL');
    a1.close();
    // Still online on the other node: past the presence grace, no sweep is armed, she is at her desk.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await armed('alice')).toBe(0);
    expect(await occupants(desk.id)).toEqual(['alice']);

    a2.close();
    await expect.poll(() => occupants(desk.id), POLL).toEqual([]);
    await watcher.waitFor(
      (f) => f.type === 'space.updated' && f.change === 'left' && f.user_id === 'alice' && f.space.id === desk.id,
    );
    const left = (await rest('admin', 'GET', `/v1/channels/${desk.cid ?? `group:space-${desk.id}`}`)).body;
    expect(left.members.map((m: any) => m.user_id)).not.toContain('alice');
    // The place is free.
    expect((await rest('bob', 'POST', `/v1/spaces/${desk.id}/enter`)).status).toBe(200);
  });

  it('back within the grace: the job runs and keeps the place', async () => {
    const lounge = await space('Lounge');
    const c1 = await connect(2, 'carol');
    ok(await c1.request('space.enter', { space_id: lounge.id }));
    const before = await awayDone();
    c1.close();
    // Offline everywhere (the job is armed), then back on another node before the grace is over.
    // At least one: under load the recurring sweep may find her gone too and arm its own (a
    // throttled, idempotent run); what counts is what the runs decide.
    await expect.poll(() => armed('carol'), POLL).toBeGreaterThanOrEqual(1);
    const c2 = await connect(1, 'carol');
    await expect.poll(() => awayDone(), POLL).toBeGreaterThan(before);
    expect(await occupants(lounge.id)).toEqual(['carol']);
    c2.close();
  });

  it('many gone at one instant (a node losing its sockets): each occupant armed and swept, nobody else', async () => {
    const hall = await space('Hall');
    const other = await n1.createApp('elsewhere');
    // The same id in another app, in a space there: the lookup is per app.
    await n1.users(other, [{ id: 'frank', name: 'Other Frank' }]);
    const theirs = await n1.call({
      method: 'POST',
      url: '/v1/spaces',
      headers: await other.server(),
      payload: { name: 'Theirs' },
    });
    const ids = ['erin', 'frank', 'gina', 'hank', 'ivy'];
    await n1.users(
      app,
      ids.map((id) => ({ id, name: id })),
    );
    const socks = await Promise.all(ids.map((id) => connect(0, id)));
    const inHall = ['erin', 'gina', 'ivy'];
    for (const [i, id] of ids.entries())
      if (inHall.includes(id)) ok(await socks[i]?.request('space.enter', { space_id: hall.id }));
    const otherFrank = await TestSocket.connect(urls[1] as string, other, 'frank');
    sockets.push(otherFrank);
    ok(await otherFrank.request('space.enter', { space_id: theirs.body.space.id }));
    for (const s of socks) s.close();
    await expect.poll(() => occupants(hall.id), POLL).toEqual([]);
    for (const id of inHall) expect(await armed(id)).toBeGreaterThanOrEqual(1);
    expect(await armed('frank')).toBe(0);
    expect(await armed('hank')).toBe(0);
  });

  it('the node that saw them go dies before the grace is over: another node sweeps them', async () => {
    const booth = await space('Booth');
    const d = await connect(2, 'dave');
    ok(await d.request('space.enter', { space_id: booth.id }));
    d.close();
    await expect.poll(() => armed('dave'), POLL).toBeGreaterThanOrEqual(1);
    await n3.close();
    await expect.poll(() => occupants(booth.id), POLL).toEqual([]);
  });

  it('a REST-only move (no socket) arms the sweep too; another app cannot see the office', async () => {
    const kitchen = await space('Kitchen');
    expect((await rest('bob', 'POST', `/v1/spaces/${kitchen.id}/enter`)).status).toBe(200);
    await expect.poll(() => occupants(kitchen.id), POLL).toEqual([]);
    const other = await n1.createApp('other');
    await n1.users(other, [{ id: 'bob', name: 'Other Bob' }]);
    const r = await n1.call({ method: 'GET', url: '/v1/spaces', headers: await other.user('bob') });
    expect(r.body.spaces).toEqual([]);
  });
});

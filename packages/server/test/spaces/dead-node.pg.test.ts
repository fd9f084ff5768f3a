/**
 * Regression: a node that died holding a user's only connection left them in their space for
 * good — no node saw them go offline, so no `spaces.away` job was armed. The recurring sweep
 * (`spaces.sweep`, features/spaces/away.ts) finds occupants the pool calls offline and takes
 * them out after the grace, through the away job; occupants online on a live node stay, in
 * their own app and in another app with a user of the same id.
 *
 * The dying node writes nothing more to the presence pool (as a killed process would not):
 * with Redis its word on the user lapses after `presenceTtlMs`; without Redis each node's pool
 * is its own view, so the survivor starts after the death, as a restarted single node would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceShare, State } from '../../src/features/presence/share.js';
import { clusterBrokers, type Harness, startHarness, type TestApp, TestSocket, testDatabase } from '../harness.js';

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('dead');

const POLL = { timeout: 20_000, interval: 100 };
const cfg = {
  masterKey: 'd'.repeat(64),
  spaces: { quietMs: 0, inviteTimeoutMs: 30_000, awayMs: 2_000 },
  presenceGraceMs: 100,
  presenceTtlMs: 1_000,
  jobPollMs: 100,
};
let db: Awaited<ReturnType<typeof testDatabase>>;
let doomed: Harness;
let survivor: Harness | undefined;
let app: TestApp;
let other: TestApp;
const sockets: TestSocket[] = [];

const ok = (reply: any) => {
  if (!reply.ok) throw new Error(`request failed: ${JSON.stringify(reply.error)}`);
  return reply;
};
async function connect(url: string, a: TestApp, user: string): Promise<TestSocket> {
  const s = await TestSocket.connect(url, a, user);
  sockets.push(s);
  return s;
}
async function space(h: Harness, a: TestApp, name: string): Promise<any> {
  const r = await h.call({ method: 'POST', url: '/v1/spaces', headers: await a.server(), payload: { name } });
  expect(r.status).toBe(200);
  return r.body.space;
}
async function occupants(h: Harness, a: TestApp, spaceId: string): Promise<string[]> {
  const r = await h.call({ method: 'GET', url: '/v1/spaces', headers: await a.user('admin') });
  return r.body.spaces.find((s: any) => s.id === spaceId).occupants.map((o: any) => o.user_id);
}

/**
 * The node dies: its presence stops writing to the pool (no offline, no refresh) before it
 * goes, so no node ever sees its users go. Its sockets and job worker stop with it.
 */
async function kill(h: Harness): Promise<void> {
  const silent: PresenceShare = {
    put: async () => {},
    // Whatever the node asks, its users stay "online" in its own eyes: no offline transition.
    get: async (_appId: string, ids: readonly string[]) => ids.map((): State => 'online'),
    refresh: async () => {},
  };
  (h.server.svc.presence as unknown as { share: PresenceShare }).share = silent;
  await h.close();
}

beforeAll(async () => {
  db = await testDatabase();
  doomed = await startHarness({ ...cfg, nodeId: 'doomed' }, { database: db.database, broker: await broker() });
  app = await doomed.createApp('office');
  other = await doomed.createApp('elsewhere');
  for (const a of [app, other])
    await doomed.users(a, [
      { id: 'admin', name: 'Ada', role: 'admin' },
      ...['alice', 'dave'].map((id) => ({ id, name: id })),
    ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await survivor?.close();
  await db.drop();
});

describe(`a node that dies holding a user's only connection (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('the sweep takes them out after the grace; occupants online on a live node stay', async () => {
    const booth = await space(doomed, app, 'Booth');
    const desk = await space(doomed, app, 'Desk');
    const theirs = await space(doomed, other, 'Booth');
    const dave = await connect(await doomed.listen(), app, 'dave');
    ok(await dave.request('space.enter', { space_id: booth.id }));
    // While his node lives the sweeps (every second here) leave him be: he is online.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await occupants(doomed, app, booth.id)).toEqual(['dave']);

    await kill(doomed);
    const died = performance.now();
    survivor = await startHarness({ ...cfg, nodeId: 'survivor' }, { database: db.database, broker: await broker() });
    const url = await survivor.listen();
    const watcher = await connect(url, app, 'admin');
    ok(await watcher.request('spaces.watch'));
    // Online on the live node: alice in this app, and a "dave" of another app.
    const alice = await connect(url, app, 'alice');
    ok(await alice.request('space.enter', { space_id: desk.id }));
    const otherDave = await connect(url, other, 'dave');
    ok(await otherDave.request('space.enter', { space_id: theirs.id }));

    await expect.poll(() => occupants(survivor as Harness, app, booth.id), POLL).toEqual([]);
    // Logged, not asserted: the pool's lapse + up to a sweep period + the grace.
    console.log(
      `dead node: out ${Math.round(performance.now() - died)} ms after the death (ttl 1 s, sweep 1 s, grace 2 s)`,
    );
    await watcher.waitFor(
      (f) => f.type === 'space.updated' && f.change === 'left' && f.user_id === 'dave' && f.space.id === booth.id,
    );
    // A sweep and a grace more: had either been armed with him, it would have run by now.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await occupants(survivor, app, desk.id)).toEqual(['alice']);
    expect(await occupants(survivor, other, theirs.id)).toEqual(['dave']);
    // The other app's watcher-less office heard nothing of this app's dave.
    expect(watcher.events().filter((f) => f.type === 'space.updated' && f.space.id === theirs.id)).toEqual([]);
  });
});

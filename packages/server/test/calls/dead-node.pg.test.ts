/**
 * Regression: a node that died holding a participant's only connection left them `joined` for
 * good — it closed no socket, so no `calls.dropped` job was armed; the call never ended and its
 * channel showed a live call with ghosts. The recurring sweep (`calls.sweep`,
 * features/calls/ghosts.ts) finds joined participants the pool calls offline and, after the
 * grace, makes them leave through the normal path: `call.updated` `left`, and the call ended with
 * its "Call ended" message when fewer than two remain. Participants who came back on a live
 * node stay, in their own app and in another app with users of the same ids.
 *
 * The dying node writes nothing more to the presence pool and runs no socket-close hook (as a
 * killed process would not): with Redis its word on its users lapses after `presenceTtlMs`;
 * without Redis each node's pool is its own view, so the survivor starts after the death, as a
 * restarted single node would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceShare, State } from '../../src/features/presence/share.js';
import { defaultConfig } from '../../src/platform/config.js';
import type { GatewayHooks } from '../../src/realtime/gateway.js';
import { clusterBrokers, type Harness, startHarness, type TestApp, TestSocket, testDatabase } from '../harness.js';

const redisUrl = process.env.REDIS_URL;
const broker = clusterBrokers('calls-dead');

const POLL = { timeout: 20_000, interval: 100 };
const cfg = {
  masterKey: 'e'.repeat(64),
  calls: { ...defaultConfig().calls, ghostMs: 2_000 },
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
async function channel(h: Harness, a: TestApp, by: string, payload: object): Promise<string> {
  const r = await h.call({ method: 'POST', url: '/v1/channels', headers: await a.user(by), payload });
  expect(r.status).toBe(200);
  return r.body.channel.cid;
}
/** Start a call from `from` and have every socket of `to` answer it. */
async function callOf(cid: string, from: TestSocket, to: TestSocket[]): Promise<any> {
  const { call } = ok(await from.request('call.start', { cid, kind: 'audio' }));
  for (const s of to) {
    await s.waitFor((f) => f.type === 'call.ring' && f.call.id === call.id);
    ok(await s.request('call.accept', { call_id: call.id }));
  }
  return call;
}
async function getCall(h: Harness, a: TestApp, user: string, id: string): Promise<any> {
  const r = await h.call({ method: 'GET', url: `/v1/calls/${id}`, headers: await a.user(user) });
  expect(r.status).toBe(200);
  return r.body.call;
}
const joined = (call: any) =>
  call.participants
    .filter((p: any) => p.state === 'joined')
    .map((p: any) => p.user_id)
    .sort();

/**
 * The node dies: its presence stops writing to the pool (no offline, no refresh) and its
 * sockets go without the close hook that arms `calls.dropped`, so no node sees its users go.
 * Its job worker stops with it.
 */
async function kill(h: Harness): Promise<void> {
  const silent: PresenceShare = {
    put: async () => {},
    // Whatever the node asks, its users stay "online" in its own eyes: no offline transition.
    get: async (_appId: string, ids: readonly string[]) => ids.map((): State => 'online'),
    refresh: async () => {},
  };
  (h.server.svc.presence as unknown as { share: PresenceShare }).share = silent;
  delete (h.server.gateway as unknown as { hooks: GatewayHooks }).hooks.closed;
  await h.close();
}

beforeAll(async () => {
  db = await testDatabase();
  doomed = await startHarness({ ...cfg, nodeId: 'doomed' }, { database: db.database, broker: await broker() });
  app = await doomed.createApp('office');
  other = await doomed.createApp('elsewhere');
  await doomed.users(
    app,
    ['alice', 'bob', 'carol', 'dave', 'erin'].map((id) => ({ id })),
  );
  await doomed.users(
    other,
    ['alice', 'bob'].map((id) => ({ id })),
  );
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await survivor?.close();
  await db.drop();
});

describe(`a node that dies holding call participants' only connections (${redisUrl ? 'redis' : 'memory'} broker)`, () => {
  it('the sweep makes ghosts leave after the grace, ending a call left with one; who came back on a live node stays', async () => {
    const team = await channel(doomed, app, 'alice', { type: 'group', id: 'team', members: ['bob', 'carol'] });
    const dm = await channel(doomed, app, 'dave', { type: 'dm', members: ['erin'] });
    const url = await doomed.listen();
    const [alice, bob, carol, dave, erin] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave', 'erin'].map((u) => connect(url, app, u)),
    );
    const teamCall = await callOf(team, alice as TestSocket, [bob as TestSocket, carol as TestSocket]);
    const dmCall = await callOf(dm, dave as TestSocket, [erin as TestSocket]);
    // While their node lives the sweeps (every second here) leave them be: they are online.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(joined(await getCall(doomed, app, 'alice', teamCall.id))).toEqual(['alice', 'bob', 'carol']);
    expect(joined(await getCall(doomed, app, 'dave', dmCall.id))).toEqual(['dave', 'erin']);

    // With Redis the survivor starts before the death, so only the reconnects race the grace (a
    // node's start took longer than the whole grace on a loaded CI machine). Without Redis each
    // node's pool is its own view: it starts after, as a restarted single node would.
    const startSurvivor = async () => {
      survivor = await startHarness({ ...cfg, nodeId: 'survivor' }, { database: db.database, broker: await broker() });
      return survivor;
    };
    const early = redisUrl ? await startSurvivor() : null;
    await kill(doomed);
    const died = performance.now();
    const h = early ?? (await startSurvivor());
    const url2 = await h.listen();
    // Bob and Carol come back on the live node and move their place in the call to it.
    const bob2 = await connect(url2, app, 'bob');
    const carol2 = await connect(url2, app, 'carol');
    ok(await bob2.request('call.join', { call_id: teamCall.id }));
    ok(await carol2.request('call.join', { call_id: teamCall.id }));
    // Another app's Alice and Bob, in a call on the live node.
    const [oAlice, oBob] = [await connect(url2, other, 'alice'), await connect(url2, other, 'bob')];
    const otherCall = await callOf(await channel(h, other, 'alice', { type: 'dm', members: ['bob'] }), oAlice, [oBob]);

    // Alice never came back: she leaves the team call, which goes on with Bob and Carol.
    const left = await bob2.waitFor(
      (f) => f.type === 'call.updated' && f.call.id === teamCall.id && f.change === 'left' && f.user_id === 'alice',
      20_000,
    );
    // Logged, not asserted: the pool's lapse + up to a sweep period + the grace.
    console.log(
      `dead node: ghost out ${Math.round(performance.now() - died)} ms after the death (ttl 1 s, sweep 1 s, grace 2 s)`,
    );
    expect(left.call.state).toBe('active');
    expect(joined(left.call)).toEqual(['bob', 'carol']);

    // Neither Dave nor Erin came back: the DM call ends, with its system message and history.
    await expect.poll(async () => (await getCall(h, app, 'dave', dmCall.id)).state, POLL).toBe('ended');
    const ended = await getCall(h, app, 'erin', dmCall.id);
    expect(ended.participants.map((p: any) => [p.user_id, p.state])).toEqual([
      ['dave', 'left'],
      ['erin', 'left'],
    ]);
    expect(ended.ended_at).not.toBeNull();
    expect(ended.duration_ms).toBeGreaterThan(0);
    const msgs = await h.call({ method: 'GET', url: `/v1/channels/${dm}/messages`, headers: await app.user('erin') });
    const system = msgs.body.messages.filter((m: any) => m.type === 'system').map((m: any) => m.text);
    expect(system).toHaveLength(1);
    expect(system[0]).toMatch(/^Call ended · \d+ s$/);
    const history = await h.call({
      method: 'GET',
      url: '/v1/calls?state=ringing,active',
      headers: await app.user('dave'),
    });
    expect(history.body.calls).toEqual([]);
    // Dave is not busy any more: he may start a call again.
    const daveBack = await connect(url2, app, 'dave');
    const again = ok(await daveBack.request('call.start', { cid: dm, kind: 'audio' }));
    ok(await daveBack.request('call.cancel', { call_id: again.call.id }));

    // A sweep and a grace more: had any been armed for those online, it would have run by now.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(joined(await getCall(h, app, 'bob', teamCall.id))).toEqual(['bob', 'carol']);
    expect((await getCall(h, app, 'bob', teamCall.id)).state).toBe('active');
    const theirs = await getCall(h, other, 'alice', otherCall.id);
    expect(theirs.state).toBe('active');
    expect(joined(theirs)).toEqual(['alice', 'bob']);
    // The other app heard nothing of this app's calls, nor this app of the other's.
    expect(oAlice.events('call.updated').filter((f) => f.call.id !== otherCall.id)).toEqual([]);
    expect(bob2.events('call.updated').filter((f) => f.call.id === otherCall.id)).toEqual([]);
  });
});

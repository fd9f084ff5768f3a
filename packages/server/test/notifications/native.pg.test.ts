/**
 * APNs and FCM HTTP v1 on the wire, against local HTTP/2 servers (node:http2, TLS with a
 * certificate made for this file) configured through the admin API: the request shape, the
 * headers (apns-topic, apns-push-type, apns-collapse-id, authorization), the JWTs verified with
 * the public halves of keys made here (APNs: ES256 provider token; FCM: the RS256 OAuth2
 * assertion traded for an access token), device tokens the provider calls dead dropped, and
 * transient failures (APNs 503, FCM 429) retried per device while a 400 is not.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, eventually, type Harness, startHarness, type TestApp } from '../harness.js';
import { channel, notificationsIdle, send } from './helpers.js';
import { selfSignedCert } from './tls.js';

interface H2Request {
  path: string;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

let h: Harness;
let app: TestApp;
let server: http2.Http2SecureServer;
let origin: string;
let tls: { key: string; cert: string };
const got: H2Request[] = [];
const apnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const fcmKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
const ACCESS_TOKEN = 'ya29.test-access-token';
const APNS_DEAD = 'deadbeef'.repeat(8);
const FCM_DEAD = 'fcm-dead-token:APA91b';
const APNS_FLAKY = 'feedf00d'.repeat(8);
const APNS_BAD = 'badc0de0'.repeat(8);
const FCM_BUSY = 'fcm-busy-token:APA91b';
/** Statuses still to answer per device token before the normal answer (503, 429, …). */
const script = new Map<string, number[]>();

/** One HTTP/2 server plays both providers (by path), as the real ones would answer. */
function answer(req: H2Request): { status: number; body: unknown } {
  if (req.path.startsWith('/3/device/')) {
    const failing = script.get(req.path.slice('/3/device/'.length))?.shift();
    if (failing)
      return { status: failing, body: { reason: failing === 503 ? 'ServiceUnavailable' : 'TooManyRequests' } };
    if (req.path.endsWith(APNS_BAD)) return { status: 400, body: { reason: 'BadCollapseId' } };
    if (req.path.endsWith(APNS_DEAD)) return { status: 410, body: { reason: 'Unregistered', timestamp: Date.now() } };
    return { status: 200, body: '' };
  }
  if (req.path === '/token')
    return { status: 200, body: { access_token: ACCESS_TOKEN, expires_in: 3599, token_type: 'Bearer' } };
  if (req.path === '/v1/projects/parley-test/messages:send') {
    if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`)
      return { status: 401, body: { error: { status: 'UNAUTHENTICATED' } } };
    const token = JSON.parse(req.body).message.token;
    const failing = script.get(token)?.shift();
    if (failing) return { status: failing, body: { error: { code: failing, status: 'RESOURCE_EXHAUSTED' } } };
    if (token === FCM_DEAD)
      return {
        status: 404,
        body: {
          error: {
            code: 404,
            status: 'NOT_FOUND',
            details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }],
          },
        },
      };
    return { status: 200, body: { name: 'projects/parley-test/messages/1' } };
  }
  return { status: 404, body: {} };
}

/** The first request matching `pred`, once it has come. */
const arrived = async (pred: (r: H2Request) => boolean) => (await eventually(() => got.find(pred))) as H2Request;

const admin = { authorization: `Bearer ${ADMIN}` };

beforeAll(async () => {
  tls = selfSignedCert();
  server = http2.createSecureServer(tls);
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const req = { path: String(headers[':path']), headers, body: Buffer.concat(chunks).toString('utf8') };
      got.push(req);
      const a = answer(req);
      stream.respond({ ':status': a.status, 'content-type': 'application/json' });
      stream.end(a.body === '' ? '' : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  h = await startHarness({ jobPollMs: 200, pushRetryDelaySeconds: 1 });
  app = await h.createApp('native');
  await h.users(app, [
    { id: 'alice', name: 'Alice', username: 'alice' },
    { id: 'bob', name: 'Bob', username: 'bob' },
  ]);
});

afterAll(async () => {
  await h?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('provider configuration (admin)', () => {
  it('stores APNs and FCM per app and shows them without their keys', async () => {
    const apns = await h.call({
      method: 'PUT',
      url: `/v1/admin/apps/${app.id}/push/apns`,
      headers: admin,
      payload: {
        team_id: 'TEAM123456',
        key_id: 'KEY1234567',
        private_key: pkcs8(apnsKey.privateKey),
        topic: 'com.example.parley',
        endpoint: origin,
        ca: tls.cert,
      },
    });
    expect(apns.status).toBe(200);
    const fcm = await h.call({
      method: 'PUT',
      url: `/v1/admin/apps/${app.id}/push/fcm`,
      headers: admin,
      payload: {
        project_id: 'parley-test',
        client_email: 'push@parley-test.iam.gserviceaccount.com',
        private_key: pkcs8(fcmKey.privateKey),
        token_uri: `${origin}/token`,
        endpoint: origin,
        ca: tls.cert,
      },
    });
    expect(fcm.status).toBe(200);
    const list = await h.call({ method: 'GET', url: `/v1/admin/apps/${app.id}/push`, headers: admin });
    expect(list.body.providers.map((p: { provider: string }) => p.provider)).toEqual(['apns', 'fcm']);
    expect(list.body.providers[0].summary).toMatchObject({ team_id: 'TEAM123456', topic: 'com.example.parley' });
    expect(JSON.stringify(list.body)).not.toContain('PRIVATE KEY');
  });

  it('refuses a key of the wrong kind, a user token, and an unknown app', async () => {
    const wrong = await h.call({
      method: 'PUT',
      url: `/v1/admin/apps/${app.id}/push/apns`,
      headers: admin,
      payload: { team_id: 'T', key_id: 'K', private_key: pkcs8(fcmKey.privateKey), topic: 'x' },
    });
    expect(wrong.status).toBe(400);
    const user = await h.call({
      method: 'GET',
      url: `/v1/admin/apps/${app.id}/push`,
      headers: await app.user('bob'),
    });
    expect(user.status).toBe(401);
    const none = await h.call({
      method: 'GET',
      url: '/v1/admin/apps/00000000-0000-4000-8000-000000000000/push',
      headers: admin,
    });
    expect(none.status).toBe(404);
  });
});

describe('delivery', () => {
  it('sends a mention to APNs and FCM in their wire formats, with verifiable JWTs', async () => {
    const hdr = await app.user('bob');
    const apnsToken = 'a1b2c3d4'.repeat(8);
    for (const body of [
      { provider: 'apns', token: apnsToken },
      { provider: 'fcm', token: 'fcm-live-token:APA91b' },
    ])
      expect((await h.call({ method: 'POST', url: '/v1/push/devices', headers: hdr, payload: body })).status).toBe(200);
    const cid = await channel(h, app, 'alice', 'native', ['alice', 'bob']);
    const m = await send(h, app, 'alice', cid, 'hi @bob');
    await notificationsIdle(h);
    const apnsReq = await arrived((r) => r.path === `/3/device/${apnsToken}`);
    expect(apnsReq.headers[':method']).toBe('POST');
    expect(apnsReq.headers['apns-topic']).toBe('com.example.parley');
    expect(apnsReq.headers['apns-push-type']).toBe('alert');
    expect(apnsReq.headers['apns-priority']).toBe('10');
    expect(String(apnsReq.headers['apns-collapse-id']).length).toBeLessThanOrEqual(64);
    const jwt = String(apnsReq.headers.authorization).replace(/^bearer /, '');
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'ES256', kid: 'KEY1234567' });
    const { payload: claims } = await jwtVerify(jwt, apnsKey.publicKey, { issuer: 'TEAM123456' });
    expect(typeof claims.iat).toBe('number');
    const aps = JSON.parse(apnsReq.body);
    expect(aps.aps.alert).toEqual({ title: '#native', body: 'Alice: hi @bob' });
    expect(aps.aps['thread-id']).toBe(cid);
    expect(aps.aps.badge).toBeGreaterThanOrEqual(1);
    expect(aps.data).toMatchObject({ cid, message_id: m.id, reason: 'mention' });

    const tokenReq = await arrived((r) => r.path === '/token');
    const form = new URLSearchParams(tokenReq.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const { payload: assertion } = await jwtVerify(form.get('assertion') as string, fcmKey.publicKey, {
      issuer: 'push@parley-test.iam.gserviceaccount.com',
      audience: `${origin}/token`,
    });
    expect(assertion.scope).toBe('https://www.googleapis.com/auth/firebase.messaging');
    const send_ = await arrived((r) => r.path === '/v1/projects/parley-test/messages:send');
    expect(send_.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    const msg = JSON.parse(send_.body).message;
    expect(msg).toMatchObject({
      token: 'fcm-live-token:APA91b',
      notification: { title: '#native', body: 'Alice: hi @bob' },
      data: { cid, message_id: m.id, reason: 'mention' },
    });
    expect(msg.android.collapse_key).toBe(apnsReq.headers['apns-collapse-id']);
    expect(msg.apns.payload.aps.badge).toBe(aps.aps.badge);
    for (const v of Object.values(msg.data)) expect(typeof v).toBe('string');
  });

  it('drops a device APNs calls Unregistered (410) and one FCM calls UNREGISTERED', async () => {
    const hdr = await app.user('bob');
    for (const body of [
      { provider: 'apns', token: APNS_DEAD },
      { provider: 'fcm', token: FCM_DEAD },
    ])
      await h.call({ method: 'POST', url: '/v1/push/devices', headers: hdr, payload: body });
    expect((await h.call({ method: 'GET', url: '/v1/push/targets', headers: hdr })).body.devices).toHaveLength(4);
    const cid = await channel(h, app, 'alice', 'dead', ['alice', 'bob']);
    await send(h, app, 'alice', cid, '@bob ping');
    await notificationsIdle(h);
    await eventually(async () => {
      const t = await h.call({ method: 'GET', url: '/v1/push/targets', headers: hdr });
      return t.body.devices.length === 2;
    });
    // The live ones are still there.
    expect(got.filter((r) => r.path === `/3/device/${APNS_DEAD}`)).toHaveLength(1);
  });

  it('a device token registered again by another user moves to them', async () => {
    await h.users(app, [{ id: 'carol', name: 'Carol' }]);
    const token = 'c0ffee00'.repeat(8);
    await h.call({
      method: 'POST',
      url: '/v1/push/devices',
      headers: await app.user('bob'),
      payload: { provider: 'apns', token },
    });
    const r = await h.call({
      method: 'POST',
      url: '/v1/push/devices',
      headers: await app.user('carol'),
      payload: { provider: 'apns', token },
    });
    expect(r.status).toBe(200);
    const bob = await h.call({ method: 'GET', url: '/v1/push/targets', headers: await app.user('bob') });
    const carol = await h.call({ method: 'GET', url: '/v1/push/targets', headers: await app.user('carol') });
    expect(bob.body.devices.map((d: { id: string }) => d.id)).not.toContain(r.body.device.id);
    expect(carol.body.devices.map((d: { id: string }) => d.id)).toEqual([r.body.device.id]);
  });

  it('retries a device that answers 503 or 429 until it lands, once; a 400 is neither retried nor dropped', {
    timeout: 150_000,
  }, async () => {
    await h.users(app, [{ id: 'erin', name: 'Erin', username: 'erin' }]);
    const hdr = await app.user('erin');
    script.set(APNS_FLAKY, [503, 503]);
    script.set(FCM_BUSY, [429]);
    for (const body of [
      { provider: 'apns', token: APNS_FLAKY },
      { provider: 'apns', token: APNS_BAD },
      { provider: 'fcm', token: FCM_BUSY },
    ])
      expect((await h.call({ method: 'POST', url: '/v1/push/devices', headers: hdr, payload: body })).status).toBe(200);
    const cid = await channel(h, app, 'alice', 'retries', ['alice', 'erin']);
    const m = await send(h, app, 'alice', cid, '@erin wake up');
    const tries = (pred: (r: H2Request) => boolean) => got.filter((r) => pred(r) && r.body.includes(m.id));
    const apnsFlaky = (r: H2Request) => r.path === `/3/device/${APNS_FLAKY}`;
    const apnsBad = (r: H2Request) => r.path === `/3/device/${APNS_BAD}`;
    const fcmBusy = (r: H2Request) =>
      r.path === '/v1/projects/parley-test/messages:send' && JSON.parse(r.body).message.token === FCM_BUSY;
    await eventually(() => tries(apnsFlaky).length === 3, 60_000);
    await eventually(() => tries(fcmBusy).length === 2, 60_000);
    await notificationsIdle(h, ['notifications.message', 'notifications.push'], 60_000);
    // 503, 503, 200 for one; 429, 200 for the other; the 400 once. Nothing more after that.
    expect(tries(apnsFlaky)).toHaveLength(3);
    expect(tries(fcmBusy)).toHaveLength(2);
    expect(tries(apnsBad)).toHaveLength(1);
    expect(script.get(APNS_FLAKY)).toEqual([]);
    const retried = JSON.parse(tries(apnsFlaky)[2]?.body ?? '{}');
    expect(retried.aps.alert).toEqual({ title: '#retries', body: 'Alice: @erin wake up' });
    expect(retried.data).toMatchObject({ cid, message_id: m.id, reason: 'mention' });
    // No device is dropped for a failure that is not "gone".
    const t = await h.call({ method: 'GET', url: '/v1/push/targets', headers: hdr });
    expect(t.body.devices).toHaveLength(3);
  });
});

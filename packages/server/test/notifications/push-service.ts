/**
 * A local Web Push service for tests: an HTTPS server (self-signed) that takes pushes as a
 * browser's push service would, and a subscription made the way a browser makes one — a P-256
 * key pair (node:crypto ECDH) and a 16-byte auth secret — so the test can DECRYPT what arrives
 * (RFC 8291, aes128gcm) and check the VAPID JWT (RFC 8292) with the server's public key.
 */
import { createDecipheriv, createECDH, createHmac, createPublicKey, type ECDH, randomBytes, verify } from 'node:crypto';
import https from 'node:https';

export interface ReceivedPush {
  subscription: string;
  headers: Record<string, string | string[] | undefined>;
  /** The decrypted payload, parsed. */
  payload: any;
  /** The VAPID JWT's claims, after its signature checked out. */
  vapid: { aud: string; exp: number; sub: string };
  /** The VAPID public key the request named (`k=`). */
  vapidKey: string;
}

export interface TestSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  ecdh: ECDH;
  auth: Buffer;
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8291 / RFC 8188: decrypt an aes128gcm body with the subscription's private key and auth secret. */
export function decryptPush(body: Buffer, sub: { ecdh: ECDH; auth: Buffer }): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] as number;
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  if (records.length > rs) throw new Error('more than one record');
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const prkKey = hmac(sub.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(records.subarray(records.length - 16));
  const plain = Buffer.concat([d.update(records.subarray(0, records.length - 16)), d.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error('no last-record delimiter');
  return plain.subarray(0, end);
}

/** Check an ES256 VAPID JWT against the raw (65-byte, base64url) public key; answers its claims. */
export function verifyVapid(jwt: string, publicKeyB64: string): { aud: string; exp: number; sub: string } {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || !s) throw new Error('not a JWT');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  if (header.alg !== 'ES256') throw new Error(`alg ${header.alg}`);
  const raw = Buffer.from(publicKeyB64, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('VAPID signature does not verify');
  return JSON.parse(Buffer.from(p, 'base64url').toString());
}

export async function startPushService(tls: { key: string; cert: string }) {
  const subs = new Map<string, TestSubscription>();
  const received: ReceivedPush[] = [];
  const errors: string[] = [];
  /** Status to answer per subscription id (default 201). */
  const answer = new Map<string, number>();
  /** Statuses to answer per subscription id, one per request, before `answer` applies. */
  const script = new Map<string, number[]>();
  /** Requests per subscription id, whatever was answered. */
  const hits = new Map<string, number>();
  /** While `until` is set, every answer waits for it to settle (requests still count in `hits`). */
  const hold: { until: Promise<unknown> | null } = { until: null };
  const server = https.createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const id = (req.url ?? '').split('/').pop() ?? '';
      const sub = subs.get(id);
      hits.set(id, (hits.get(id) ?? 0) + 1);
      if (hold.until) await hold.until.catch(() => {});
      const status = script.get(id)?.shift() ?? answer.get(id) ?? 201;
      if (!sub || status !== 201) {
        res.writeHead(sub ? status : 404).end();
        return;
      }
      try {
        const auth = String(req.headers.authorization ?? '');
        const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(auth);
        if (!m) throw new Error(`Authorization: ${auth}`);
        const vapid = verifyVapid(m[1] as string, m[2] as string);
        const payload = JSON.parse(decryptPush(Buffer.concat(chunks), sub).toString('utf8'));
        received.push({ subscription: id, headers: req.headers, payload, vapid, vapidKey: m[2] as string });
        res.writeHead(201).end();
      } catch (err) {
        errors.push(String(err));
        res.writeHead(400).end();
      }
    });
  });
  /** TLS connections the server accepted (kept-alive ones are counted once). */
  const connections = { count: 0 };
  server.on('secureConnection', () => connections.count++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    received,
    errors,
    answer,
    script,
    hits,
    hold,
    connections,
    /** A new subscription, as a browser would make (its endpoint on this service). */
    subscribe(): TestSubscription {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(8).toString('hex');
      const sub = {
        id,
        endpoint: `${origin}/push/${id}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
        ecdh,
        auth,
      };
      subs.set(id, sub);
      return sub;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Uploads at the edges, over raw TCP: a multipart body cut off inside the file part (the body
 * ends early, the client goes quiet, the client hangs up), a multipart type with no boundary, and
 * a file over the size limit. Each must end with a clear answer in bounded time where a client
 * is left to hear it, and leave no bytes in the data folder's temporary uploads. Written after
 * a cut-off body hung for ever, leaving an empty file per try, a boundary-less one answered 500,
 * and a refused large file stayed on disk across restarts.
 */
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepUploadTmp } from '../../src/features/files/actions.js';
import { eventually, type Harness, startHarness, type TestApp } from '../harness.js';

const MAX = 64 * 1024;
const IDLE_MS = 600;
let h: Harness;
let app: TestApp;
let port: number;
let cid: string;

const tmpDir = () => path.join(h.config.dataDir, 'tmp', 'uploads');
const leftovers = () => {
  try {
    return readdirSync(tmpDir());
  } catch {
    return [];
  }
};

interface Raw {
  status: number | null;
  body: string;
}

/**
 * Write `head` then `body` to a raw socket and read the answer. `then` decides what the client
 * does after writing: wait for the answer with its side open, half-close, or hang up.
 */
function raw(head: string, body: Buffer, then: 'wait' | 'end' | 'destroy'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e) => (then === 'destroy' ? resolve({ status: null, body: '' }) : reject(e)));
    const done = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    };
    s.on('close', done);
    s.write(head);
    s.write(body, () => {
      if (then === 'end') s.end();
      if (then === 'destroy') s.destroy();
    });
    // What the client reads, once the server has answered: the answer ends the exchange.
    s.on('data', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const cl = /content-length: (\d+)/i.exec(text);
      const sep = text.indexOf('\r\n\r\n');
      if (cl && sep >= 0 && Buffer.byteLength(text.slice(sep + 4)) >= Number(cl[1])) s.end();
    });
  });
}

async function request(opts: {
  contentType?: string;
  contentLength?: number;
  body: Buffer;
  after?: 'wait' | 'end' | 'destroy';
}): Promise<Raw> {
  const headers = await app.user('alice');
  const lines = [
    `POST /v1/channels/${cid}/uploads HTTP/1.1`,
    'Host: 127.0.0.1',
    `X-Api-Key: ${headers['x-api-key']}`,
    `Authorization: ${headers.authorization}`,
    `Content-Type: ${opts.contentType ?? 'multipart/form-data; boundary=XyZ'}`,
    `Content-Length: ${opts.contentLength ?? opts.body.length}`,
    'Connection: close',
  ];
  return raw(`${lines.join('\r\n')}\r\n\r\n`, opts.body, opts.after ?? 'wait');
}

const filePart = (bytes: Buffer) =>
  Buffer.concat([
    Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n',
    ),
    bytes,
  ]);
const whole = (bytes: Buffer) => Buffer.concat([filePart(bytes), Buffer.from('\r\n--XyZ--\r\n')]);

beforeAll(async () => {
  h = await startHarness({ uploadMaxBytes: MAX, uploadIdleMs: IDLE_MS });
  const url = await h.listen();
  port = Number(new URL(url).port);
  app = await h.createApp('cut-off');
  await h.users(app, [{ id: 'alice', name: 'Alice' }]);
  const r = await h.call({
    method: 'POST',
    url: '/v1/channels',
    headers: await app.user('alice'),
    payload: { type: 'group', id: 'files', members: ['alice'] },
  });
  cid = r.body.channel.cid;
});
afterAll(async () => {
  await h.close();
});

describe('uploads cut off, malformed or too large leave nothing behind', () => {
  it('a whole upload still works (the control)', async () => {
    const r = await request({ body: whole(Buffer.alloc(1000, 7)) });
    expect(r.status, r.body).toBe(200);
    expect(leftovers()).toEqual([]);
  });

  it('a body that ends inside the file part answers 400 and keeps no file', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await request({ body: filePart(Buffer.alloc(5000, 1)) });
      expect(r.status, r.body).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe('VALIDATION_ERROR');
    }
    expect(leftovers()).toEqual([]);
  });

  it('a client that goes quiet mid-file is answered 400 after the idle time, and nothing stays', async () => {
    const r = await request({ body: filePart(Buffer.alloc(5000, 2)), contentLength: 50_000 });
    expect(r.status, r.body).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe('VALIDATION_ERROR');
    expect(leftovers()).toEqual([]);
  });

  it('a client that half-closes mid-file is answered 400, and nothing stays', async () => {
    const r = await request({ body: filePart(Buffer.alloc(5000, 3)), contentLength: 50_000, after: 'end' });
    expect(r.status, r.body).toBe(400);
    expect(JSON.parse(r.body).error.code, r.body).toBeTruthy();
    // The answer may be the HTTP layer's (the body can never be whole now), sent beside the
    // upload's own cleanup rather than after it.
    await eventually(() => leftovers().length === 0);
  });

  it('a client that hangs up mid-file leaves nothing', async () => {
    for (let i = 0; i < 3; i++) {
      await request({ body: filePart(Buffer.alloc(5000, 4)), contentLength: 50_000, after: 'destroy' });
    }
    await eventually(() => leftovers().length === 0);
  });

  it('multipart/form-data without a boundary is a 400, not a 500', async () => {
    for (const contentType of [
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'multipart/form-data; charset=utf-8',
    ]) {
      const r = await request({ contentType, body: whole(Buffer.alloc(10, 5)) });
      expect(r.status, `${contentType}: ${r.body}`).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe('VALIDATION_ERROR');
    }
    expect(leftovers()).toEqual([]);
  });

  it('a file over the limit is 413 and keeps no truncated copy', async () => {
    const r = await request({ body: whole(Buffer.alloc(MAX + 10_000, 6)) });
    expect(r.status, r.body).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(leftovers()).toEqual([]);
  });

  it('stale temporary files are swept at start and on a schedule, fresh ones are not', async () => {
    mkdirSync(tmpDir(), { recursive: true });
    const stale = path.join(tmpDir(), 'left-by-a-crash');
    const fresh = path.join(tmpDir(), 'arriving-now');
    writeFileSync(stale, 'x');
    writeFileSync(fresh, 'y');
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, old, old);
    expect(await sweepUploadTmp(h.server.svc)).toBe(1);
    expect(leftovers()).toEqual(['arriving-now']);
    // At start: a server opened on a data folder with a stale upload removes it.
    writeFileSync(stale, 'x');
    utimesSync(stale, old, old);
    const next = await startHarness({ dataDir: h.config.dataDir });
    try {
      await eventually(() => !leftovers().includes('left-by-a-crash'));
      expect(leftovers()).toEqual(['arriving-now']);
    } finally {
      await next.close();
    }
  });
});

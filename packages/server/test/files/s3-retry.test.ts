/**
 * The S3 store's upload from a file, when the connection drops under it: the AWS SDK does not
 * retry a streamed body, so a store that closed a reused keep-alive connection ("socket hang
 * up") failed a whole restore. A proxy in front of a real s3rver cuts the first uploads'
 * connections; the file still lands, whole. A store that keeps refusing still fails, with its
 * error, after a few tries.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../src/platform/storage/store.js';
import { startS3 } from './helpers.js';

let s3: Awaited<ReturnType<typeof startS3>>;
let proxy: net.Server;
/** How many more PUT connections the proxy cuts once their request has begun. */
let cutNext = 0;
let cut = 0;

beforeAll(async () => {
  s3 = await startS3();
  const upstream = new URL(s3.options.endpoint as string);
  proxy = net.createServer((client) => {
    const server = net.connect(Number(upstream.port), upstream.hostname);
    client.once('data', (first) => {
      if (cutNext > 0 && first.toString('latin1').startsWith('PUT ')) {
        cutNext--;
        cut++;
        client.destroy();
        server.destroy();
        return;
      }
      server.write(first);
      client.pipe(server).pipe(client);
    });
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await s3?.close();
});

function store(): S3Store {
  const { port } = proxy.address() as net.AddressInfo;
  return new S3Store({ ...s3.options, endpoint: `http://127.0.0.1:${port}` });
}

async function fileOf(bytes: Buffer): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'parley-s3-retry-')), 'blob');
  writeFileSync(file, bytes);
  return file;
}

describe('S3Store.putFile over a dropped connection', () => {
  it('sends the file again when the connection is cut before an answer, and it lands whole', async () => {
    const bytes = Buffer.alloc(300_000, 7);
    bytes.write('first and last', 0);
    const file = await fileOf(bytes);
    cutNext = 2;
    cut = 0;
    const st = store();
    await st.putFile('app/retried', file, { contentType: 'application/octet-stream', size: bytes.length });
    expect(cut).toBe(2);
    expect((await st.readAll('app/retried')).equals(bytes)).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('gives up after a few tries with the network’s error, leaving the file', async () => {
    const file = await fileOf(Buffer.from('never stored'));
    cutNext = 100;
    cut = 0;
    const st = store();
    await expect(
      st.putFile('app/refused', file, { contentType: 'application/octet-stream', size: 12 }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    expect(cut).toBe(4);
    expect(existsSync(file)).toBe(true);
    cutNext = 0;
    await expect(st.size('app/refused')).rejects.toBeTruthy();
  });
});

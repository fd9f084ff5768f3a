/**
 * The SDK's sends with files against a real server: optimistic message with upload progress,
 * then the stored message with its attachments; the other client sees the thumbnails arrive
 * (message.updated); cancel; a refused upload leaves the message failed and retry sends it.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient, LocalMessage } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];

beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100, uploadMaxBytes: 2 * 1024 * 1024 });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('sendMessage with files', () => {
  it('shows the message at once with progress, stores it with attachments, and the thumbnails reach the other client', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    const ch = alice.channel('group', 'pics');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const bobCh = bob.channel('group', 'pics');
    await bobCh.watch();

    const png = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#3080c0' } })
      .png()
      .toBuffer();
    const file = new File([new Uint8Array(png)], 'sky.png', { type: 'image/png' });
    const seen: LocalMessage[] = [];
    const unsub = alice.state.subscribe((s) => {
      const m = s.channels['group:pics']?.messages.at(-1);
      if (m && seen.at(-1) !== m) seen.push(m);
    });
    const progress: number[] = [];
    const sent = await ch.sendMessage({
      text: 'look',
      attachments: [file],
      onProgress: (p) => progress.push(p.sent / p.total),
    });
    unsub();
    // First shown as sending with the file uploading, then stored with the attachment.
    expect(seen[0]).toMatchObject({ status: 'sending', text: 'look' });
    expect(seen[0]?.uploads?.[0]).toMatchObject({ name: 'sky.png', size: png.length, state: 'uploading' });
    expect(progress.at(-1)).toBe(1);
    expect(sent.status).toBe('sent');
    expect(sent.attachments?.[0]).toMatchObject({ kind: 'image', name: 'sky.png', width: 900, height: 600 });

    // Bob's client gets the message, then its update with the thumbnails.
    const ready = await until(
      () => {
        const m = bob.state.get().channels['group:pics']?.messages.find((x) => x.id === sent.id);
        return m?.attachments?.[0]?.processing === 'ready' ? m : null;
      },
      30_000,
      'thumbnails on the other client',
    );
    expect(ready?.attachments?.[0]?.thumbs['360']).toBe(`/v1/files/${sent.attachments?.[0]?.id}?v=360`);
    expect(ready?.attachments?.[0]?.blurhash).toBeTruthy();
  });

  it('a refused upload fails the message, cancelSend removes it, and the next send goes through', async () => {
    const alice = await makeClient(h, app, 'alice');
    clients.push(alice);
    const ch = alice.channel('group', 'big');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();

    const big = new File([new Uint8Array(3 * 1024 * 1024)], 'big.bin');
    const failing = ch.sendMessage({ text: 'too big', attachments: [big] });
    await expect(failing).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const failed = ch.state?.messages.at(-1);
    expect(failed).toMatchObject({ status: 'failed', text: 'too big' });
    expect(failed?.uploads?.[0]?.state).toBe('failed');

    // Cancelling removes the failed message.
    expect(ch.cancelSend(failed?.id as string)).toBe(true);
    expect(ch.state?.messages.some((m) => m.id === failed?.id)).toBe(false);

    // An upload made earlier can be sent by id.
    const small = new File([new TextEncoder().encode('notes')], 'notes.txt', { type: 'text/plain' });
    const first = await ch.sendMessage({ text: 'a', attachments: [small] });
    expect(first.attachments?.map((a) => a.name)).toEqual(['notes.txt']);
  });
});

describe('sendMessage with files, S3 storage', () => {
  it('uploads straight to the bucket when the server offers it, and the message carries the checked file', async () => {
    const { startS3 } = await import('../../server/test/files/helpers.js');
    const s3 = await startS3();
    const direct = await startHarness({ jobPollMs: 100, s3: s3.options });
    try {
      const a = await direct.createApp();
      await direct.users(a, [{ id: 'alice' }]);
      const alice = await makeClient(direct, a, 'alice');
      const ch = alice.channel('group', 'direct');
      await ch.createChannel({ members: [] });
      await ch.watch();
      expect((await alice.files.rules()).direct_uploads).toBe(true);

      // Where the bytes went (form POSTs and multipart uploads use the global fetch in Node):
      // passed through, only noted.
      const calls: string[] = [];
      const real = globalThis.fetch;
      globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
        return real(input, init);
      }) as typeof fetch;
      let sent: LocalMessage;
      const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c03080' } })
        .png()
        .toBuffer();
      try {
        sent = await ch.sendMessage({
          text: 'direct',
          attachments: [new File([new Uint8Array(png)], 'pink.png', { type: 'image/png' })],
        });
      } finally {
        globalThis.fetch = real;
      }
      expect(sent.attachments?.[0]).toMatchObject({ kind: 'image', name: 'pink.png', width: 300, height: 200 });
      const s3Port = new URL(s3.options.endpoint as string).port;
      expect(calls.some((c) => c.startsWith('POST') && c.includes(`:${s3Port}/`))).toBe(true);
      expect(calls.some((c) => /\/v1\/channels\/[^/]+\/uploads$/.test(c))).toBe(false);
      await alice.disconnectUser();
    } finally {
      await direct.close();
      await s3.close();
    }
  });
});

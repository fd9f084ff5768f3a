/**
 * `getStorageUse` against a real server: the caller's bytes and the app's with their quotas,
 * moving with a send's files and their deletion, and agreeing with a refused upload's error;
 * `listMyFiles`, largest first, by pages.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp } from './setup.js';

const KB = 1024;
let h: Harness;
let app: TestApp;
const clients: ChatClient[] = [];

/** `n` bytes no sniffer takes for a known type: counted as kind `file`. */
function opaque(n: number, name: string): File {
  const b = randomBytes(n);
  Buffer.from('\0parley-opaque\0', 'latin1').copy(b, 0);
  return new File([new Uint8Array(b)], name, { type: 'application/octet-stream' });
}

beforeAll(async () => {
  h = await startHarness({ uploadMaxBytes: 512 * KB, userQuotaBytes: 256 * KB, appQuotaBytes: 0 });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h.close();
});

describe('getStorageUse', () => {
  it('counts your files against your quota, the app’s total beside it, and drops when a file goes', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    const before = await alice.getStorageUse();
    expect(before.user).toMatchObject({ used_bytes: 0, limit_bytes: 256 * KB, files: 0 });
    expect(before.app).toEqual({ used_bytes: 0, limit_bytes: null });

    const ch = alice.channel('group', 'files');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const sent = await ch.sendMessage({
      text: 'two files',
      attachments: [opaque(40_000, 'a.bin'), opaque(9_000, 'b.bin')],
    });
    expect(sent.status).toBe('sent');
    const bobs = bob.channel('group', 'files');
    await bobs.watch();
    expect((await bobs.sendMessage({ text: 'one', attachments: [opaque(5_000, 'c.bin')] })).status).toBe('sent');

    const listed = await alice.listMyFiles({ limit: 1 });
    expect(listed.files).toMatchObject([{ name: 'a.bin', size: 40_000, message_id: sent.id }]);
    expect((await alice.listMyFiles({ cursor: listed.next })).files).toMatchObject([{ name: 'b.bin', size: 9_000 }]);

    const mine = await alice.getStorageUse();
    expect(mine.user).toMatchObject({ used_bytes: 49_000, files: 2, by_kind: { file: { count: 2, bytes: 49_000 } } });
    expect(mine.app.used_bytes).toBe(54_000);
    expect((await bob.getStorageUse()).user).toMatchObject({ used_bytes: 5_000, files: 1 });

    // One byte past what is left by these numbers: refused by the quota check.
    const room = (mine.user.limit_bytes as number) - mine.user.used_bytes;
    await expect(
      ch.sendMessage({ text: 'too much', attachments: [opaque(room + 1, 'big.bin')] }),
    ).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { quota: 'user', limit_bytes: mine.user.limit_bytes },
    });

    await ch.deleteMessage(sent.id);
    expect((await alice.getStorageUse()).user).toMatchObject({ used_bytes: 0, files: 0 });
    expect((await alice.getStorageUse()).app.used_bytes).toBe(5_000);
  });
});

/**
 * Link previews through the SDK against a real server: a message with a link gets its card in
 * both clients' state (message.updated); only the author can remove it (`removePreview`), which
 * both clients see, and it stays removed after an edit. The page comes from a local HTTP server
 * that the server's test allow-list lets through.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, ParleyError } from '../src/index.js';
import { type Harness, makeClient, startHarness, type TestApp, until } from './setup.js';

let h: Harness;
let app: TestApp;
let pages: http.Server;
let site: string;
const clients: ChatClient[] = [];

beforeAll(async () => {
  const png = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#208040' } })
    .png()
    .toBuffer();
  pages = http.createServer((req, res) => {
    if (req.url === '/pic.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(png);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<html><head><meta property="og:title" content="Card ${req.url}"><meta property="og:site_name" content="Local">` +
        `<meta property="og:image" content="/pic.png"></head><body></body></html>`,
    );
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
  const port = (pages.address() as AddressInfo).port;
  site = `http://127.0.0.1:${port}`;
  h = await startHarness({ jobPollMs: 100, previewAllowHosts: [`127.0.0.1:${port}`] });
  app = await h.createApp();
  await h.users(app, [{ id: 'alice' }, { id: 'bob' }]);
});
afterAll(async () => {
  for (const c of clients) await c.disconnectUser();
  await h?.close();
  pages?.closeAllConnections();
  await new Promise((r) => (pages ? pages.close(r) : r(null)));
});

describe('link previews in the SDK', () => {
  it('shows cards from message.updated, and removePreview takes one away for good', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    const ch = alice.channel('group', 'links');
    await ch.createChannel({ members: ['bob'] });
    await ch.watch();
    const bobCh = bob.channel('group', 'links');
    await bobCh.watch();

    const sent = await ch.sendMessage({ text: `two links: ${site}/a and ${site}/b` });
    expect(sent.previews).toEqual([]);
    const inState = (c: ChatClient) => c.state.get().channels['group:links']?.messages.find((m) => m.id === sent.id);
    const cards = await until(
      () => ((inState(bob)?.previews?.length ?? 0) === 2 ? inState(bob) : null),
      30_000,
      'cards',
    );
    expect(cards?.previews?.map((p) => p.title)).toEqual(['Card /a', 'Card /b']);
    expect(cards?.previews?.[0]?.image?.thumbs['360']).toMatch(/^\/v1\/link-images\//);
    await until(() => (inState(alice)?.previews?.length ?? 0) === 2, 10_000, 'cards for the author');

    // Not the author: refused, nothing changes.
    const refused = await bobCh.removePreview(sent.id, `${site}/a`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParleyError);
    expect((refused as ParleyError).code).toBe('FORBIDDEN');
    expect(inState(bob)?.previews).toHaveLength(2);

    const after = await ch.removePreview(sent.id, `${site}/a`);
    expect(after.previews?.map((p) => p.url)).toEqual([`${site}/b`]);
    expect(inState(alice)?.previews?.map((p) => p.url)).toEqual([`${site}/b`]);
    await until(() => inState(bob)?.previews?.length === 1, 10_000, 'the removal on the other client');

    // An edit keeps it removed.
    await ch.updateMessage(sent.id, `edited: ${site}/a and ${site}/b`);
    expect(inState(alice)?.previews?.map((p) => p.url)).toEqual([`${site}/b`]);
  });
});

// @vitest-environment happy-dom
/**
 * Link preview cards in the message list: the card (site, title linking to the page,
 * description, the server's thumbnail) appears when the unfurl job is done; the author has a
 * remove button, other readers do not; removing it takes the card away on both sides.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatClient } from '@parley/client';
import { fireEvent } from '@testing-library/react';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, MessageList } from '../src/index.js';
import { button, type Harness, makeClient, renderFor, startHarness, type TestApp, until, waitFor } from './helpers.js';

let h: Harness;
let app: TestApp;
let pages: http.Server;
let site: string;
const clients: ChatClient[] = [];

beforeAll(async () => {
  const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#a03060' } })
    .png()
    .toBuffer();
  pages = http.createServer((req, res) => {
    if (req.url === '/pic.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(png);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      '<html><head><meta property="og:title" content="A <b>bold</b> claim"><meta property="og:site_name" content="The Site">' +
        '<meta property="og:description" content="All about it"><meta property="og:image" content="/pic.png"></head></html>',
    );
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
  const port = (pages.address() as AddressInfo).port;
  site = `http://127.0.0.1:${port}`;
  h = await startHarness({ jobPollMs: 100, previewAllowHosts: [`127.0.0.1:${port}`] });
  app = await h.createApp();
  await h.users(app, [
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
  ]);
});

afterAll(async () => {
  for (const c of clients) await c.disconnectUser().catch(() => {});
  await h?.close();
  pages?.closeAllConnections();
  await new Promise((r) => (pages ? pages.close(r) : r(null)));
});

const card = () => document.querySelector<HTMLElement>('.parley-link-preview');

describe('link preview cards', () => {
  it('shows the card, with a remove button for the author only', async () => {
    const alice = await makeClient(h, app, 'alice');
    const bob = await makeClient(h, app, 'bob');
    clients.push(alice, bob);
    const a = alice.channel('group', 'cards');
    await a.createChannel({ members: ['bob'] });
    await a.watch();
    const b = bob.channel('group', 'cards');
    await b.watch();
    const sent = await a.sendMessage({ text: `read ${site}/story` });

    // Bob's view: the card without a remove button.
    const bobView = renderFor(
      bob,
      <Channel channel={b}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(card()).not.toBeNull(), { timeout: 30_000 });
    const c = card() as HTMLElement;
    expect(c.querySelector('.parley-link-preview__site')?.textContent).toBe('The Site');
    const title = c.querySelector<HTMLAnchorElement>('a.parley-link-preview__title');
    // The title is text (never markup), linking to the page in a new tab without a referrer.
    expect(title?.textContent).toBe('A <b>bold</b> claim');
    expect(title?.querySelector('b')).toBeNull();
    expect(title?.href).toBe(`${site}/story`);
    expect(title?.rel).toContain('noopener');
    expect(c.querySelector('.parley-link-preview__description')?.textContent).toBe('All about it');
    const img = c.querySelector<HTMLImageElement>('img.parley-link-preview__img');
    expect(img?.src).toMatch(new RegExp(`^${bob.http.resolve('/v1/link-images/')}.+\\?v=360$`));
    expect(c.querySelector('button.parley-link-preview__remove')).toBeNull();
    bobView.unmount();

    // Alice's view: her card has the button; it removes the card on both sides.
    renderFor(
      alice,
      <Channel channel={a}>
        <MessageList markRead={false} />
      </Channel>,
    );
    await waitFor(() => expect(card()).not.toBeNull(), { timeout: 30_000 });
    fireEvent.click(button(card() as HTMLElement, /^Remove preview of/));
    await waitFor(() => expect(card()).toBeNull());
    await until(
      () => bob.state.get().channels['group:cards']?.messages.find((m) => m.id === sent.id)?.previews?.length === 0,
      10_000,
      'the removal reaching Bob',
    );
  });
});

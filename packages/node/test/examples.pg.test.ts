/**
 * The examples docs/node.md shows are these files, word for word, and they work against a real
 * server: the quickstart, and a receiver that verifies webhooks and answers the before-send hook.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';
import { quickstart } from '../examples/quickstart.js';
import { receiver } from '../examples/receiver.js';
import { Parley, type WebhookBody } from '../src/index.js';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');
const docs = read('../../../docs/node.md');
/** An example file as the docs show it: without its first line (the pointer to this test). */
const shown = (file: string) => read(`../examples/${file}`).split('\n').slice(1).join('\n').trim();

let h: Harness;
let base: string;
let app: TestApp;
const secrets = { webhooks: '', beforeSend: '' };
const events: WebhookBody[] = [];
const rcv = receiver(secrets, (e) => events.push(e));
let rcvHost = '';

beforeAll(async () => {
  await new Promise<void>((r) => rcv.listen(0, '127.0.0.1', r));
  rcvHost = `127.0.0.1:${(rcv.address() as AddressInfo).port}`;
  h = await startHarness({ jobPollMs: 100, outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW: rcvHost }) });
  base = await h.listen();
  app = await h.createApp('examples');
}, 60_000);
afterAll(async () => {
  rcv.closeAllConnections();
  await new Promise((r) => rcv.close(r));
  await h?.close();
});

describe('docs/node.md examples', () => {
  it('are shown in the docs as they are in the files', () => {
    expect(docs).toContain(shown('quickstart.ts'));
    expect(docs).toContain(shown('receiver.ts'));
  });

  it('the quickstart runs: users, a token, a channel, messages as a user and the app, history', async () => {
    const r = await quickstart({ url: base, apiKey: app.apiKey, apiSecret: app.secret });
    expect(r.texts.slice(0, 2)).toEqual(['Build 1042 deployed', 'T-minus 10 minutes']);
    const me = await fetch(`${base}/v1/me`, {
      headers: { 'x-api-key': app.apiKey, authorization: `Bearer ${r.token}` },
    });
    expect(((await me.json()) as { user: { id: string } }).user.id).toBe('ada');
    // Twice is fine: ensure finds the channel, upsert updates.
    expect((await quickstart({ url: base, apiKey: app.apiKey, apiSecret: app.secret })).texts).toHaveLength(
      r.texts.length + 2,
    );
  });

  it('the receiver verifies deliveries and refuses a password through the before-send hook', async () => {
    const parley = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret });
    secrets.webhooks = (
      await parley.webhooks.create({ url: `http://${rcvHost}/parley/webhooks`, events: ['message.*'] })
    ).secret;
    secrets.beforeSend =
      (await parley.hooks.setBeforeSend({ url: `http://${rcvHost}/parley/before-send` })).secret ?? '';
    await parley.messages.send('group:launch', { text: 'liftoff' }, { as: 'bob' });
    const refused = await parley.messages
      .send('group:launch', { text: 'my password is hunter2' }, { as: 'bob' })
      .catch((e) => e);
    expect(refused).toMatchObject({ code: 'MESSAGE_REJECTED', details: { reason: 'Do not post passwords' } });
    await expect
      .poll(() => events.map((e) => (e.event as { message?: { text: string } }).message?.text), {
        timeout: 20_000,
      })
      .toContain('liftoff');
    expect(events.every((e) => e.app_id === app.id)).toBe(true);
    // A request not signed by Parley is refused.
    const forged = await fetch(`http://${rcvHost}/parley/webhooks`, { method: 'POST', body: '{}' });
    expect(forged.status).toBe(401);
  });
});

/**
 * @parley/node's slash commands against a real server on a loopback port: a backend registers
 * `/ticket`, receives the signed command (checked with `verifyWebhook` and the command's
 * secret, as a real app would), answers later on the `response_url` with `commands.respond`;
 * the registry's bad input and the GIF provider setting come back as typed errors and values.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type Harness, startHarness, type TestApp } from '../../server/test/harness.js';
import { Parley, ParleyError, verifyWebhook } from '../src/index.js';

let h: Harness;
let base: string;
let app: TestApp;
let parley: Parley;
let backend: http.Server;
let backendUrl = '';
let secret = '';
const received: { body: Record<string, any>; verified: boolean }[] = [];

beforeAll(async () => {
  // The app's backend: checks the signature, answers "working on it" at once, then later
  // posts the real answer to the response URL with the SDK.
  backend = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, any> = {};
      let verified = false;
      try {
        body = verifyWebhook<Record<string, any>>(raw, req.headers['x-parley-signature'] as string, secret);
        verified = true;
      } catch {
        body = JSON.parse(raw);
      }
      received.push({ body, verified });
      res.writeHead(verified ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(verified ? { text: `Opening a ticket: ${body.text}` } : {}));
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const port = (backend.address() as AddressInfo).port;
  backendUrl = `http://127.0.0.1:${port}`;
  h = await startHarness({
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_COMMANDS: `127.0.0.1:${port}` }),
  });
  base = await h.listen();
  app = await h.createApp('sdk-commands');
  parley = new Parley({ url: base, apiKey: app.apiKey, apiSecret: app.secret, backoffMs: 10 });
  await parley.users.upsert([{ id: 'ada' }, { id: 'bob' }]);
  await parley.channels.create({ type: 'group', id: 'help', members: ['ada', 'bob'], created_by: 'ada' });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await new Promise((r) => backend?.close(r));
});

describe('parley.commands', () => {
  it('registers a command, takes it signed, and answers later on the response URL', async () => {
    const made = await parley.commands.create({
      name: 'ticket',
      description: 'Open a support ticket',
      usage: '[summary]',
      url: `${backendUrl}/ticket`,
    });
    secret = made.secret;
    expect(made.command).toMatchObject({ name: 'ticket', builtin: false });
    expect((await parley.commands.list()).map((c) => c.name)).toContain('ticket');
    expect((await parley.commands.available('group:help', { as: 'bob' })).map((c) => c.name)).toContain('ticket');
    const id = made.command.id as string;
    expect(await parley.commands.get(id)).toMatchObject({ usage: '[summary]' });
    expect(await parley.commands.update(id, { usage: '[what broke]' })).toMatchObject({
      usage: '[what broke]',
    });

    const r = await parley.commands.run('group:help', '/ticket printer on fire', { as: 'ada' });
    expect(r.result).toBe('ephemeral');
    expect(r.ephemeral?.text).toBe('Opening a ticket: printer on fire');
    const got = received.at(-1);
    expect(got?.verified).toBe(true);
    expect(got?.body).toMatchObject({ type: 'command', command: '/ticket', user_id: 'ada', cid: 'group:help' });
    // The response URL points at this server (the request's origin): the SDK posts to it.
    expect(got?.body.response_url.startsWith(`${base}/v1/commands/responses?token=`)).toBe(true);
    const later = await parley.commands.respond(got?.body.response_url, {
      response_type: 'in_channel',
      as_user: true,
      text: 'Ticket #42 opened',
    });
    expect(later.message).toMatchObject({ user_id: 'ada', text: 'Ticket #42 opened' });
    const texts: string[] = [];
    for await (const m of parley.messages.history('group:help')) texts.push(m.text);
    expect(texts.filter((t) => t === 'Ticket #42 opened')).toHaveLength(1);
  });

  it('answers bad input and unknown commands as typed errors', async () => {
    const dup = await parley.commands
      .create({ name: 'ticket', description: 'again', url: `${backendUrl}/x` })
      .catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(ParleyError);
    expect((dup as ParleyError).code).toBe('CONFLICT');
    const bad = await parley.commands.create({ name: 'Bad Name', description: 'x', url: 'x' }).catch((e) => e);
    expect((bad as ParleyError).code).toBe('VALIDATION_ERROR');
    const unknown = await parley.commands.run('group:help', '/nope', { as: 'ada' }).catch((e) => e);
    expect((unknown as ParleyError).code).toBe('UNKNOWN_COMMAND');
    const gone = await parley.commands.delete('00000000-0000-7000-8000-000000000000').catch((e) => e);
    expect((gone as ParleyError).code).toBe('NOT_FOUND');
  });

  it('sets, reads and removes the GIF provider without ever answering its key', async () => {
    expect(await parley.commands.gifProvider()).toBeNull();
    const set = await parley.commands.setGifProvider({ provider: 'tenor', api_key: 'secret-key', rating: 'high' });
    expect(set).toMatchObject({ provider: 'tenor', base_url: 'https://tenor.googleapis.com', rating: 'high' });
    expect(JSON.stringify(await parley.commands.gifProvider())).not.toContain('secret-key');
    await parley.commands.removeGifProvider();
    expect(await parley.commands.gifProvider()).toBeNull();
  });
});

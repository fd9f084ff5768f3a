/**
 * The wire contract as documents, served: `GET /v1/schema.json` (JSON Schema 2020-12) and
 * `GET /v1/asyncapi.json` (AsyncAPI 3.0), made from the protocol's schemas. The frames a real
 * session sends fit the served schema, read by a validator that knows nothing of TypeBox.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp();
  await h.users(app, [{ id: 'ada' }, { id: 'bob' }]);
  base = await h.listen();
});
afterAll(() => h.close());

describe('the contract documents', () => {
  it('are served, without credentials, and the AsyncAPI document names the socket', async () => {
    const a = await fetch(`${base}/v1/asyncapi.json`);
    expect(a.status).toBe(200);
    const doc = (await a.json()) as any;
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.channels.socket.address).toBe('/v1/ws');
    expect(doc.operations['send.message.send'].reply.messages).toEqual([
      { $ref: '#/channels/socket/messages/server.reply' },
    ]);
    const s = await fetch(`${base}/v1/schema.json`);
    expect(s.headers.get('content-type')).toMatch(/^application\/schema\+json/);
    expect(((await s.json()) as any).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('every frame of a real session fits the served schema', async () => {
    const schema = await (await fetch(`${base}/v1/schema.json`)).json();
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    ajv.addSchema(schema as object);
    const serverFrame = ajv.getSchema('https://parley.dev/schema/v1.json#/$defs/ServerFrame');
    const clientFrame = ajv.getSchema('https://parley.dev/schema/v1.json#/$defs/ClientFrame');
    if (!serverFrame || !clientFrame) throw new Error('no ServerFrame or ClientFrame in the schema');

    const ada = await TestSocket.connect(base, app, 'ada');
    const bob = await TestSocket.connect(base, app, 'bob');
    const sent: object[] = [];
    const request = async (s: TestSocket, type: string, fields: Record<string, unknown>) => {
      sent.push({ type, req_id: 1, ...fields });
      return s.request(type, fields);
    };
    await h.call({
      method: 'POST',
      url: '/v1/channels',
      headers: await app.user('ada'),
      payload: { type: 'group', id: 'fit', members: ['bob'] },
    });
    await request(ada, 'channel.watch', { cid: 'group:fit' });
    await request(bob, 'channel.watch', { cid: 'group:fit' });
    const m = await request(ada, 'message.send', { cid: 'group:fit', message: { text: 'hello @bob' } });
    await request(bob, 'reaction.add', { message_id: m.message.id, reaction: { type: 'like' } });
    await request(ada, 'message.update', { message: { id: m.message.id, text: 'hello again' } });
    await request(bob, 'read.mark', { cid: 'group:fit', seq: m.message.seq });
    await request(ada, 'typing.start', { cid: 'group:fit' });
    await request(ada, 'ping', {});
    await request(ada, 'message.send', { cid: 'group:nowhere', message: { text: 'x' } }); // an error reply
    await bob.waitFor((f) => f.type === 'message.updated');

    for (const f of sent) expect(clientFrame(f) ? 'fits' : clientFrame.errors, JSON.stringify(f)).toBe('fits');
    const frames = [...ada.frames, ...bob.frames];
    for (const t of [
      'hello',
      'reply',
      'message.new',
      'reaction.new',
      'message.updated',
      'read.updated',
      'typing.start',
    ])
      expect(frames.map((f) => f.type)).toContain(t);
    for (const f of frames) expect(serverFrame(f) ? 'fits' : serverFrame.errors, JSON.stringify(f)).toBe('fits');
    ada.ws.close();
    bob.ws.close();
  });
});

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument, clientFrameSchemas, jsonSchemaBundle } from './contract.js';
import { EVENT_TYPES } from './events.js';
import { CLIENT_REQUESTS } from './frames.js';
import * as protocol from './index.js';
import { serverFrameSchemas } from './server-frame-check.js';

const msgId = '0194b1c8-2d3e-7f00-8000-000000000001';

/** Every `$ref` in a document, with the path it was found at. */
function refs(doc: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [{ ref: v, at }] : refs(v, `${at}/${k}`),
  );
}
const resolve = (doc: unknown, ref: string) =>
  ref
    .slice(2)
    .split('/')
    .reduce<unknown>((o, key) => (o as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/')], doc);

describe('the wire contract documents', () => {
  const bundle = jsonSchemaBundle(protocol);
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, inlineRefs: false }));
  ajv.addSchema(bundle);
  const check = (def: string, value: unknown) => {
    const v = ajv.getSchema(`https://parley.dev/schema/v1.json#/$defs/${def}`);
    if (!v) throw new Error(`no $defs/${def}`);
    return v(value) ? true : v.errors;
  };

  it('the JSON Schema bundle compiles as 2020-12 and holds every frame, reply and REST body', () => {
    const defs = bundle.$defs as Record<string, unknown>;
    for (const type of Object.keys(CLIENT_REQUESTS)) {
      expect(defs).toHaveProperty([`client.${type.replace(/\./g, '_')}`]);
      expect(defs).toHaveProperty([`reply.${type.replace(/\./g, '_')}`]);
    }
    for (const type of [...EVENT_TYPES, 'hello', 'reply'])
      expect(defs).toHaveProperty([`server.${type.replace(/\./g, '_')}`]);
    for (const name of ['SendMessageBody', 'CreateChannelBody', 'Message', 'Channel', 'ErrorBody', 'UpsertUsersBody'])
      expect(defs).toHaveProperty([name]);
    for (const { ref, at } of refs(bundle)) expect(resolve(bundle, ref), `${ref} at ${at}`).toBeDefined();
    expect(ajv.validateSchema(bundle)).toBe(true);
  });

  it('names a shared type once and refers to it, so the bundle says which bodies carry the same thing', () => {
    const defs = bundle.$defs as Record<string, any>;
    expect(defs['reply.message_send'].properties.message).toEqual({ $ref: '#/$defs/Message' });
    expect(defs['server.message_new'].properties.message).toEqual({ $ref: '#/$defs/Message' });
    expect(defs.Message.type).toBe('object'); // a named type's own root stays whole
    // Written out in full wherever used, the bundle was 1.7 MB.
    expect(JSON.stringify(bundle).length).toBeLessThan(400_000);
  });

  it('accepts well-formed frames and refuses malformed ones, as the server does', () => {
    const send = { type: 'message.send', req_id: 1, cid: 'group:ops', message: { id: msgId, text: 'hi' } };
    expect(check('client.message_send', send)).toBe(true);
    expect(check('ClientFrame', send)).toBe(true);
    expect(check('client.message_send', { ...send, extra: 1 })).not.toBe(true);
    expect(check('client.message_send', { ...send, req_id: -1 })).not.toBe(true);
    expect(check('client.read_mark', { type: 'read.mark', req_id: 2, cid: 'group:ops', seq: 'ten' })).not.toBe(true);
    expect(check('client.auth', { type: 'auth', token: 'x.y.z' })).toBe(true);
    const failure = { type: 'reply', req_id: null, ok: false, error: { code: 'BAD_JSON', message: 'not JSON' } };
    expect(check('server.reply', failure)).toBe(true);
    expect(check('ServerFrame', failure)).toBe(true);
    expect(check('server.reply', { type: 'reply', ok: false, error: {} })).not.toBe(true);
    expect(check('SendMessageBody', { text: 'hi', parent_id: null })).toBe(true);
    expect(check('SendMessageBody', { text: 'hi', colour: 'red' })).not.toBe(true);
  });

  it('the AsyncAPI document names every frame once, with a reply per request, and every $ref resolves', () => {
    const doc = asyncApiDocument({ host: 'localhost:3000' }) as any;
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.servers.parley).toEqual({ host: 'localhost:3000', protocol: 'ws', pathname: '/v1/ws' });
    const ops = doc.operations as Record<string, any>;
    for (const type of clientFrameSchemas().keys()) {
      expect(ops[`send.${type}`].action).toBe('send');
      expect(ops[`send.${type}`].reply.messages).toHaveLength(1);
    }
    for (const type of serverFrameSchemas().keys()) expect(ops[`receive.${type}`].action).toBe('receive');
    expect(Object.keys(ops)).toHaveLength(clientFrameSchemas().size + serverFrameSchemas().size);
    for (const { ref, at } of refs(doc)) expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();
    // Keys are what AsyncAPI allows for component names.
    for (const key of Object.keys(doc.components.messages)) expect(key).toMatch(/^[a-zA-Z0-9.\-_]+$/);
  });
});

/**
 * The wire contract as documents other tools read: one JSON Schema (2020-12) bundle of every
 * frame and every REST body, and an AsyncAPI 3.0 document of the socket. Both are made from the
 * same TypeBox schemas the server and the SDK use, so they cannot drift from them. The build
 * writes them to `dist/contract/` (scripts/build.mjs); the server serves them
 * (`GET /v1/schema.json`, `GET /v1/asyncapi.json`).
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { AuthFrame, CLIENT_REQUESTS } from './frames.js';
import { REQUEST_REPLIES } from './replies.js';
import { serverFrameSchemas } from './server-frame-check.js';
import { PROTOCOL_VERSION } from './version.js';

const isSchema = (v: unknown): v is TSchema => typeof v === 'object' && v !== null && Kind in v;
/** A schema as plain JSON: TypeBox's symbols dropped (JSON.stringify leaves them out). */
const plain = (s: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(s));
const defName = (frameType: string) => frameType.replace(/[^A-Za-z0-9_]/g, '_');

/** The frames a client sends (the auth frame first, then every request by type). */
export function clientFrameSchemas(): ReadonlyMap<string, TSchema> {
  return new Map<string, TSchema>([['auth', AuthFrame], ...Object.entries(CLIENT_REQUESTS)]);
}

/**
 * The JSON Schema bundle: `$defs` holds every frame (`client.<type>`, `server.<type>`, with
 * dots made underscores), each request's reply body (`reply.<type>`), and every named schema
 * of `named` (the protocol package's exports: REST bodies, answers, entities); the root is
 * "any frame", one of `ClientFrame` and `ServerFrame`.
 */
export function jsonSchemaBundle(named: Record<string, unknown> = {}): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(named).sort(([a], [b]) => a.localeCompare(b)))
    if (isSchema(value)) defs[name] = plain(value);
  const client = [...clientFrameSchemas()];
  const server = [...serverFrameSchemas()];
  for (const [type, s] of client) defs[`client.${defName(type)}`] = plain(s);
  for (const [type, s] of server) defs[`server.${defName(type)}`] = plain(s);
  for (const [type, s] of Object.entries(REQUEST_REPLIES)) defs[`reply.${defName(type)}`] = plain(s as TSchema);
  // Exactly one branch per frame type: a schema that serves two types (typing.start and
  // typing.stop share one) is narrowed to its type in each.
  const branch = (side: string, t: string) => ({
    allOf: [{ $ref: `#/$defs/${side}.${defName(t)}` }, { properties: { type: { const: t } }, required: ['type'] }],
  });
  defs.ClientFrame = { oneOf: client.map(([t]) => branch('client', t)) };
  defs.ServerFrame = { oneOf: server.map(([t]) => branch('server', t)) };
  shareNamed(
    defs,
    Object.keys(defs).filter((k) => k in named),
  );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://parley.dev/schema/v1.json',
    title: 'Parley wire contract',
    description: `Every frame of the WebSocket (and the fallback transport) and every REST body of protocol version ${PROTOCOL_VERSION}. Frames: $defs client.* and server.*; REST: the named schemas (see the OpenAPI document).`,
    oneOf: [{ $ref: '#/$defs/ClientFrame' }, { $ref: '#/$defs/ServerFrame' }],
    $defs: defs,
  };
}

/** Named schemas smaller than this (as JSON) stay inline where they are used: a `$ref` would be no shorter. */
const SHARE_MIN_CHARS = 200;

/**
 * TypeBox writes a schema out in full wherever it is used, so `Message` appeared inside every
 * frame and answer that carries one (1.7 MB in all). Here every subschema equal to a named one
 * becomes a `$ref` to it (the largest first, from the top down), which tells a reader — or a
 * code generator in another language — that the two are the same type, and keeps the bundle
 * small enough for a validator to compile quickly. A named schema's own root stays inline, and
 * of two equal named schemas the first by name is the one referred to.
 */
function shareNamed(defs: Record<string, unknown>, names: string[]): void {
  const byText = new Map<string, string>();
  for (const name of [...names].sort()) {
    const text = JSON.stringify(defs[name]);
    if (text.length >= SHARE_MIN_CHARS && !byText.has(text)) byText.set(text, name);
  }
  const walk = (node: unknown, root: boolean): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    if (!root) {
      const name = byText.get(JSON.stringify(node));
      if (name) return { $ref: `#/$defs/${name}` };
    }
    if (Array.isArray(node)) return node.map((v) => walk(v, false));
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, false)]));
  };
  for (const key of Object.keys(defs)) defs[key] = walk(defs[key], true);
}

/** The AsyncAPI 3.0 document of the socket: a send operation per request (with its reply), a receive per server frame. */
export function asyncApiDocument(opts: { host?: string } = {}): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const add = (key: string, name: string, title: string, payload: TSchema) => {
    messages[key] = { name, title, contentType: 'application/json', payload: plain(payload) };
    channelMessages[key] = { $ref: `#/components/messages/${key}` };
  };
  for (const [type, s] of clientFrameSchemas()) add(`client.${type}`, type, `Client frame ${type}`, s);
  for (const [type, s] of serverFrameSchemas()) add(`server.${type}`, type, `Server frame ${type}`, s);
  const ref = (key: string) => ({ $ref: `#/channels/socket/messages/${key}` });

  for (const type of clientFrameSchemas().keys()) {
    const reply = type === 'auth' ? 'server.hello' : 'server.reply';
    operations[`send.${type}`] = {
      action: 'send',
      channel: { $ref: '#/channels/socket' },
      summary: type === 'auth' ? 'The first frame: the token (or offer it with the upgrade)' : `Request ${type}`,
      messages: [ref(`client.${type}`)],
      reply: { channel: { $ref: '#/channels/socket' }, messages: [ref(reply)] },
    };
  }
  for (const type of serverFrameSchemas().keys())
    operations[`receive.${type}`] = {
      action: 'receive',
      channel: { $ref: '#/channels/socket' },
      messages: [ref(`server.${type}`)],
    };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Parley WebSocket API',
      version: String(PROTOCOL_VERSION),
      description:
        'The socket of a Parley server: JSON text frames. Authenticate with the first frame (`auth`) or offer the token with the upgrade; requests carry `req_id` and are answered with a `reply`; events arrive in seq order per channel, each exactly once. The same frames travel over the fallback transport (server-sent events down, POST up). See docs/protocol.md.',
    },
    ...(opts.host ? { servers: { parley: { host: opts.host, protocol: 'ws', pathname: '/v1/ws' } } } : {}),
    defaultContentType: 'application/json',
    channels: {
      socket: {
        address: '/v1/ws',
        title: 'The WebSocket',
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: { api_key: { type: 'string', description: 'The app key (or the X-Api-Key header)' } },
              required: ['api_key'],
            },
          },
        },
      },
    },
    operations,
    components: { messages },
  };
}

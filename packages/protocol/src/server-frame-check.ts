/**
 * The full check of a server frame against its TypeBox schema: every field, every format. The
 * SDK does not use it on its hot path (`parseServerFrame` checks envelopes only, with no schema
 * library at run time); tests and debugging do, to catch a server out of step with the
 * protocol. Nothing here runs at import time, so a bundle that does not call it can drop it.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ChannelEvent, EphemeralEvent } from './events.js';
import { registerFormats } from './formats.js';
import { HelloFrame } from './frames.js';
import { ProtocolError, type ServerFrame } from './server-frames.js';

let schemas: Map<string, TSchema> | null = null;

/** The schema of each frame type, taken apart from the event unions (one branch of EphemeralEvent serves two types). */
function schemaOf(type: string): TSchema | undefined {
  return serverFrameSchemas().get(type);
}

/** Every frame type the server sends, with its full schema (the contract's documents list them). */
export function serverFrameSchemas(): ReadonlyMap<string, TSchema> {
  if (!schemas) {
    const reply = Type.Union([
      Type.Object({ type: Type.Literal('reply'), req_id: Type.Integer({ minimum: 0 }), ok: Type.Literal(true) }),
      Type.Object({
        type: Type.Literal('reply'),
        req_id: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
        ok: Type.Literal(false),
        error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
      }),
    ]);
    const map = new Map<string, TSchema>([
      ['hello', HelloFrame],
      ['reply', reply],
    ]);
    for (const branch of [...ChannelEvent.anyOf, ...EphemeralEvent.anyOf]) {
      const t = branch.properties.type as TSchema & { const?: string; anyOf?: { const: string }[] };
      for (const name of t.anyOf ? t.anyOf.map((l) => l.const) : [t.const as string]) map.set(name, branch);
    }
    registerFormats();
    schemas = map;
  }
  return schemas;
}

/**
 * Check a parsed frame (from `parseServerFrame`) against its full schema. Returns the frame, or
 * a `ProtocolError` naming the first field that does not fit.
 */
export function checkServerFrame(frame: ServerFrame): ServerFrame | ProtocolError {
  const type = frame.type;
  const schema = schemaOf(type);
  if (!schema) return new ProtocolError('UNKNOWN_TYPE', `Unknown frame type ${type}`, type);
  const value: unknown = frame;
  if (Value.Check(schema, value)) return frame;
  const first = Value.Errors(schema, value).First();
  return new ProtocolError(
    'INVALID_FRAME',
    `Invalid ${type} frame${first ? `: ${first.path} ${first.message}` : ''}`,
    type,
  );
}

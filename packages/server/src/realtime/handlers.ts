/**
 * The shape of a socket request handler; features export maps of these by request type. A
 * handler answers with the reply body the protocol names for its request (`REQUEST_REPLIES`),
 * or nothing (a bare `ok`).
 */
import type { ClientRequest, ClientRequestType, ReplyBody } from '@parley/protocol';
import type { Caller } from '../platform/auth.js';
import type { Services } from '../services.js';
import type { Connection } from './connection.js';

export interface SocketContext {
  svc: Services;
  conn: Connection;
  caller: Caller & { kind: 'user' };
}

export type SocketHandler<T extends ClientRequestType> = (
  ctx: SocketContext,
  frame: ClientRequest<T>,
) => Promise<ReplyBody<T> | undefined>;

export type SocketHandlers = { [T in ClientRequestType]?: SocketHandler<T> };

/**
 * The server's connections that have not made a request yet: accepted, and either silent or
 * partway through a request's head. Node's `server.close()` closes idle keep-alive connections,
 * but one whose client sent part of a request line and stalled counts as busy, and one accepted
 * a moment after the reap is never reaped: either holds the close open until the headers timeout.
 * At shutdown these are closed; a connection with a request in flight is left to finish it.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

export function trackRequestless(server: Server): { closeAll(): void } {
  /** Sockets with no request seen yet (an upgrade or a request takes them out). */
  const waiting = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    waiting.add(socket);
    socket.once('close', () => waiting.delete(socket));
  });
  const seen = (req: IncomingMessage) => waiting.delete(req.socket);
  server.on('request', seen);
  server.on('upgrade', seen);
  return {
    closeAll() {
      for (const socket of waiting) socket.destroy();
      waiting.clear();
    },
  };
}

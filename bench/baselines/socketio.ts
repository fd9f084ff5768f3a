/**
 * Baseline: Socket.IO 4 room broadcast. Clients connect over WebSocket (no long-polling
 * upgrade) and join the rooms named in the handshake query (`rooms=a,b`); an event
 * `pub(room, payload)` is answered with `io.to(room).emit('m', payload)`, which encodes the
 * packet once for the whole room. With BENCH_REDIS_URL, the official Redis adapter carries
 * broadcasts between nodes (the multi-node case).
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { serve, serverCommon } from '../lib/proc.js';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 64 * 1024,
});
const redisUrl = process.env.BENCH_REDIS_URL;
if (redisUrl) {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  pub.on('error', () => {});
  sub.on('error', () => {});
  io.adapter(createAdapter(pub, sub, { key: `bench-sio-${process.env.BENCH_RUN_ID ?? 'x'}` }));
}
io.on('connection', (socket) => {
  const names = String(socket.handshake.query.rooms ?? '')
    .split(',')
    .filter(Boolean);
  if (names.length) void socket.join(names);
  socket.on('pub', (room: string, payload: string) => {
    io.to(room).emit('m', payload);
  });
});

await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
const port = (http.address() as { port: number }).port;
serve({ ...serverCommon, sockets: () => io.engine.clientsCount }, { url: `http://127.0.0.1:${port}` });

/**
 * Baseline: the ceiling. A bare `ws` server (no auth, no parsing, no persistence). A client
 * joins rooms with `/?rooms=a,b`; a text frame "room\npayload" from any client is a publish
 * command: the server sends that payload, unchanged, to every socket in the room.
 *
 * Two ways of writing, picked by BENCH_RAW_MODE:
 *
 *   coalesce (default, the `raw` server)  what Parley's gateway does (realtime/frame.ts and
 *       connection.ts): the payload is framed ONCE (RFC 6455 header + bytes in one Buffer) and
 *       queued on each socket of the room; one setImmediate per tick flushes every socket
 *       that has frames, a socket's frames of one tick leaving corked in one write. A real
 *       ceiling: the same write path with nothing in front of it.
 *   each (the `raw-each` server)  one `ws.send` per socket per message, as the `ws` README's
 *       broadcast does: one syscall per message per socket (the old ceiling, kept as a column
 *       that shows what coalescing is worth).
 *   durable (the `raw-pg` server)  coalescing, but a message goes out only once PostgreSQL has
 *       committed it (BENCH_DATABASE_URL): the messages that arrive while a commit is in flight
 *       go into the next one, one multi-row INSERT of (room, body) each, at most
 *       BENCH_RAW_PG_INFLIGHT (2) commits in flight, fanned out in the order they began. The
 *       floor of a durable chat server on this machine: no auth, no parsing, one narrow table
 *       with nothing but its primary key — what the disk and the cores cost before anything of
 *       Parley's.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { serve, serverCommon } from '../lib/proc.js';

const mode = process.env.BENCH_RAW_MODE ?? 'coalesce';
const coalesce = mode !== 'each';

/** A text frame (FIN, opcode 1, unmasked, no RSV bits), header and payload in one Buffer. */
function frameOf(payload: Buffer): Buffer {
  const n = payload.length;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(h + n);
  buf[0] = 0x81;
  if (h === 2) buf[1] = n;
  else if (h === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(n, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    buf.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(buf, h);
  return buf;
}

interface Peer {
  ws: WebSocket;
  /** The TCP socket under ws (no extension is negotiated: perMessageDeflate is off). */
  socket: Socket;
  queue: Buffer[];
}

let dirty: Peer[] = [];
function flushAll(): void {
  const peers = dirty;
  dirty = [];
  for (const p of peers) {
    const q = p.queue;
    p.queue = [];
    if (p.ws.readyState !== WebSocket.OPEN) continue;
    // Only while ws's own sender is idle (it always is here: the server sends nothing else
    // but pongs and the close frame, written synchronously).
    if ((p.ws as unknown as { _sender?: { _state?: number } })._sender?._state !== 0) {
      for (const b of q) p.ws.send(b.subarray(b[1] === 126 ? 4 : b[1] === 127 ? 10 : 2), { binary: false });
      continue;
    }
    if (q.length === 1) p.socket.write(q[0] as Buffer);
    else {
      p.socket.cork();
      for (const b of q) p.socket.write(b);
      p.socket.uncork();
    }
  }
}

const rooms = new Map<string, Set<Peer>>();

/** Queue a payload, framed once, on every socket of the room (flushed once per tick). */
function publish(room: string, payload: Buffer): void {
  const set = rooms.get(room);
  if (!set) return;
  const frame = frameOf(payload);
  for (const s of set) {
    if (s.queue.length === 0) {
      if (dirty.length === 0) setImmediate(flushAll);
      dirty.push(s);
    }
    s.queue.push(frame);
  }
}

/** durable: the group commit in front of `publish`. */
const store = mode === 'durable' ? await groupCommit() : null;

async function groupCommit(): Promise<(room: string, payload: Buffer) => void> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error('BENCH_RAW_MODE=durable needs BENCH_DATABASE_URL');
  const inflightMax = Math.max(1, Number(process.env.BENCH_RAW_PG_INFLIGHT) || 2);
  const pool = new pg.Pool({ connectionString: url, max: inflightMax });
  await pool.query(
    'create table if not exists messages (id bigserial primary key, room text not null, body text not null, created_at timestamptz not null default now())',
  );
  let pending: { room: string; payload: Buffer }[] = [];
  let inflight = 0;
  let scheduled = false;
  // Batches fan out in the order their commits began, whichever commit returns first.
  let order: Promise<void> = Promise.resolve();
  const begin = () => {
    scheduled = false;
    while (inflight < inflightMax && pending.length > 0) {
      const batch = pending;
      pending = [];
      inflight++;
      const stored = pool.query('insert into messages (room, body) select * from unnest($1::text[], $2::text[])', [
        batch.map((m) => m.room),
        batch.map((m) => m.payload.toString('utf8')),
      ]);
      order = order
        .then(() => stored)
        .then(() => {
          for (const m of batch) publish(m.room, m.payload);
        })
        .catch((e: Error) => {
          process.stderr.write(`raw-pg: commit failed: ${e.message}\n`);
          process.exit(1);
        })
        .finally(() => {
          inflight--;
          begin();
        });
    }
  };
  return (room, payload) => {
    pending.push({ room, payload });
    // A tick's messages share a commit.
    if (!scheduled && inflight < inflightMax) {
      scheduled = true;
      setImmediate(begin);
    }
  };
}
const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 });

wss.on('connection', (ws, req) => {
  const names = (new URL(req.url ?? '/', 'http://x').searchParams.get('rooms') ?? '').split(',').filter(Boolean);
  const peer: Peer = { ws, socket: (ws as unknown as { _socket: Socket })._socket, queue: [] };
  for (const n of names) {
    let set = rooms.get(n);
    if (!set) {
      set = new Set();
      rooms.set(n, set);
    }
    set.add(peer);
  }
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return;
    const nl = data.indexOf(10);
    if (nl < 0) return;
    const room = data.toString('latin1', 0, nl);
    const set = rooms.get(room);
    if (!set) return;
    const payload = data.subarray(nl + 1);
    if (store) store(room, payload);
    else if (coalesce) publish(room, payload);
    else for (const s of set) if (s.ws.readyState === WebSocket.OPEN) s.ws.send(payload, { binary: false });
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    for (const n of names) {
      const set = rooms.get(n);
      set?.delete(peer);
      if (set?.size === 0) rooms.delete(n);
    }
  });
});

await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
const port = (http.address() as { port: number }).port;
serve({ ...serverCommon, sockets: () => wss.clients.size }, { url: `http://127.0.0.1:${port}`, mode });

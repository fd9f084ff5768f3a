/**
 * Baseline: the ceiling. A bare `ws` server (no auth, no parsing, no persistence). A client
 * joins rooms with `/?rooms=a,b`; a text frame "room\npayload" from any client is a publish
 * command: the server sends that ONE buffer, unchanged and serialized once, to every socket
 * in the room (one `ws.send` per socket, as the `ws` README's broadcast does).
 */
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { serve, serverCommon } from '../lib/proc.js';

const rooms = new Map<string, Set<WebSocket>>();
const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 });

wss.on('connection', (ws, req) => {
  const names = (new URL(req.url ?? '/', 'http://x').searchParams.get('rooms') ?? '').split(',').filter(Boolean);
  for (const n of names) {
    let set = rooms.get(n);
    if (!set) {
      set = new Set();
      rooms.set(n, set);
    }
    set.add(ws);
  }
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return;
    const nl = data.indexOf(10);
    if (nl < 0) return;
    const set = rooms.get(data.toString('latin1', 0, nl));
    if (!set) return;
    const payload = data.subarray(nl + 1);
    for (const s of set) if (s.readyState === WebSocket.OPEN) s.send(payload, { binary: false });
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    for (const n of names) {
      const set = rooms.get(n);
      set?.delete(ws);
      if (set?.size === 0) rooms.delete(n);
    }
  });
});

await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
const port = (http.address() as { port: number }).port;
serve({ ...serverCommon, sockets: () => wss.clients.size }, { url: `http://127.0.0.1:${port}` });

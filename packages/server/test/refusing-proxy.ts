/**
 * A loopback HTTP proxy that forwards every request to a Parley server — bodies streamed both
 * ways, so a server-sent event stream passes as it comes — and refuses every Upgrade with 403,
 * as the corporate proxies that kill WebSockets do. What the fallback transport's tests run
 * through: a client behind it reaches the REST API and the event stream, never a WebSocket.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

export interface RefusingProxy {
  /** The proxy's base URL (use it where the server's would go). */
  url: string;
  /** Upgrades refused so far. */
  refused: number;
  /** Let upgrades through from now on (the network got better), or refuse them again. */
  allowUpgrades: boolean;
  close(): Promise<void>;
}

export async function startRefusingProxy(target: string): Promise<RefusingProxy> {
  const to = new URL(target);
  const state = { refused: 0, allow: false };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const up = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        // The Host as the client sent it, as a forward proxy keeps it (the server's same-origin
        // checks compare it with the Origin).
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('error', () => res.destroy());
        answer.pipe(res);
        // Cut upstream (a stream the server ended abruptly): cut here too, as a proxy does.
        answer.once('close', () => {
          if (!answer.complete) res.destroy();
        });
      },
    );
    up.on('error', () => res.destroy());
    req.on('error', () => up.destroy());
    // The client went away (or its answer is done): so does the request upstream, so a cut
    // stream is cut at the server too, as it would be without the proxy.
    res.once('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    if (state.allow) {
      // Through: the request head as it came, then bytes both ways.
      const up = connect(Number(to.port), to.hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        up.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
      socket.on('close', () => up.destroy());
      return;
    }
    state.refused++;
    // An upgrade's socket is the handler's: without a listener, the client's reset after the
    // 403 (ECONNRESET) would be an uncaught error.
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get refused() {
      return state.refused;
    },
    get allowUpgrades() {
      return state.allow;
    },
    set allowUpgrades(v: boolean) {
      state.allow = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

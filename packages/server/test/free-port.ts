/**
 * A TCP port free on loopback right now, for a child process or a server a test starts (the
 * kernel picks it; the probe closes before the port is used, so a test still handles a lost
 * race the way any listen failure is handled).
 */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

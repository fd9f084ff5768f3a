/**
 * Run a server from the environment: build it, listen, and shut down gracefully on SIGTERM
 * or SIGINT — stop accepting, close sockets with a reconnect code, let in-flight requests
 * finish, close the database — then exit 0.
 */
import { buildServer, type ParleyServer } from './app.js';
import type { Config } from './platform/config.js';

export interface Started extends ParleyServer {
  url: string;
  stop(): Promise<void>;
}

export async function startServer(
  config: Config,
  opts: { handleSignals?: boolean; migrate?: boolean } = {},
): Promise<Started> {
  const server = await buildServer(config, { migrate: opts.migrate !== false });
  const { app } = server;
  const address = await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  const port = new URL(address).port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= app.close();
    return stopping;
  };
  if (opts.handleSignals) {
    const onSignal = (signal: string) => {
      app.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        app.log.error('shutdown took too long; exiting');
        process.exit(1);
      }, 15_000);
      force.unref();
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { ...server, url, stop };
}

/**
 * The background thread's entry (background.ts): loads the server's modules at once, and when
 * the main thread says `build` (its migrations done, its broker made), builds from the main
 * thread's configuration a server that runs this node's jobs and never listens.
 */
import { getPriority, setPriority } from 'node:os';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { buildServer, type ParleyServer } from './app.js';
import type { FromThread, ThreadData, ToThread } from './background.js';
import { allowFromTexts } from './platform/outbound.js';
import { encryptPushesHere } from './platform/push/encrypt.js';
import { PortBroker } from './realtime/port-broker.js';

const port = parentPort;
if (!port) throw new Error('background-thread.ts runs as a worker thread (background.ts starts it)');
const data = workerData as ThreadData;
// No client waits on this thread's loop: its pushes are encrypted here, not on a third thread.
encryptPushesHere();
const tell = (m: FromThread) => port.postMessage(m);
let server: ParleyServer | null = null;
port.on('message', (m: ToThread) => {
  if (m.k === 'build') void build(m.port);
  else if (m.k === 'metrics') {
    const registry = server?.svc.metrics.registry;
    void (registry ? registry.getMetricsAsJSON() : Promise.resolve([])).then((metrics) =>
      tell({ k: 'metrics', id: m.id, metrics }),
    );
  } else if (m.k === 'stop')
    // With its port closed and its server's handles gone, the thread ends: the main thread waits for that.
    void (server ? server.app.close() : Promise.resolve()).finally(() => port.close());
});

async function build(brokerPort: MessagePort | undefined) {
  const config = { ...data.config, outboundAllow: allowFromTexts(data.outboundAllow) };
  server = await buildServer(config, {
    migrate: false,
    logger: data.logger,
    ...(brokerPort ? { broker: new PortBroker(brokerPort) } : {}),
  });
  await server.app.ready();
  lowerPriority();
  tell({ k: 'ready' });
}

/**
 * From here on the thread yields the cores to the main thread's sends (once built: it starts at
 * full speed). On Linux a nice value belongs to the thread that sets it (setpriority(2) with
 * who = 0 is the calling thread); elsewhere it would be the whole process's, so it is left alone.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux' || data.config.backgroundNice <= 0) return;
  try {
    setPriority(0, Math.min(19, getPriority(0) + data.config.backgroundNice));
  } catch {
    // Refused (a container without the right): it runs at the process's priority.
  }
}

import { MessageChannel } from 'node:worker_threads';
import { type Broker, MemoryBroker, MemoryNetwork } from './broker.js';
import { brokerConformance } from './broker-conformance.js';
import { bridgeToPort, PortBroker } from './port-broker.js';
import { RedisBroker } from './redis-broker.js';

brokerConformance('memory', async (n) => {
  const net = new MemoryNetwork();
  return Array.from({ length: n }, () => new MemoryBroker(net));
});

// The background thread's broker (background.ts): every other node is a PortBroker across a
// MessageChannel, bridged into the first node's network, as the thread is in its process.
brokerConformance('port', async (n) => {
  const net = new MemoryNetwork();
  const brokers: Broker[] = [new MemoryBroker(net)];
  for (let i = 1; i < n; i++) {
    const { port1, port2 } = new MessageChannel();
    const bridge = bridgeToPort(net, port1);
    const b = new PortBroker(port2);
    const close = b.close.bind(b);
    b.close = async () => {
      await close();
      bridge.close();
    };
    brokers.push(b);
  }
  return brokers;
});

// Redis runs wherever REDIS_URL is set (CI sets it, with PARLEY_REQUIRE_REDIS=1 so that a
// missing Redis fails instead of silently skipping).
const redisUrl = process.env.REDIS_URL;
if (!redisUrl && process.env.PARLEY_REQUIRE_REDIS === '1')
  throw new Error('PARLEY_REQUIRE_REDIS=1 but REDIS_URL is not set');
if (redisUrl) {
  brokerConformance('redis', async (n) => {
    const prefix = `parley-test-${process.pid}-${Math.random().toString(36).slice(2)}:`;
    const brokers = Array.from({ length: n }, () => new RedisBroker(redisUrl, prefix));
    await Promise.all(brokers.map((b) => b.ready()));
    return brokers;
  });
}

import { MemoryBroker, MemoryNetwork } from './broker.js';
import { brokerConformance } from './broker-conformance.js';
import { RedisBroker } from './redis-broker.js';

brokerConformance('memory', async (n) => {
  const net = new MemoryNetwork();
  return Array.from({ length: n }, () => new MemoryBroker(net));
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

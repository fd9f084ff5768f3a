/**
 * The broker across a thread boundary: the background thread (background.ts) is one more
 * member of its process's in-process network, over a MessagePort. `PortBroker` is the thread's
 * side and `bridgeToPort` the main thread's: a MemoryBroker on the main network that
 * subscribes to what the thread subscribes to, hands the thread what is published there, and
 * publishes there what the thread publishes — echoed back to the thread when it subscribed to
 * it, as a MemoryBroker's own publishes are. The port keeps each direction in order.
 */
import type { MessagePort } from 'node:worker_threads';
import { type Broker, type BusMessage, MemoryBroker, type MemoryNetwork } from './broker.js';

type Up =
  | { k: 'pub'; topic: string; msg: BusMessage }
  | { k: 'sub'; topic: string }
  | { k: 'unsub'; topic: string }
  | { k: 'settle'; id: number };
type Down = { k: 'msg'; topic: string; msg: BusMessage } | { k: 'settled'; id: number };

/** The thread's broker: every call goes over the port to the main thread's network. */
export class PortBroker implements Broker {
  private readonly topics = new Set<string>();
  private handler: (topic: string, msg: BusMessage) => void = () => {};
  private readonly waiting = new Map<number, () => void>();
  private next = 0;
  private closed = false;

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: Down) => {
      if (m.k === 'msg') {
        if (this.topics.has(m.topic)) this.handler(m.topic, m.msg);
      } else {
        this.waiting.get(m.id)?.();
        this.waiting.delete(m.id);
      }
    });
  }
  private post(m: Up): void {
    if (!this.closed) this.port.postMessage(m);
  }
  publish(topic: string, msg: BusMessage): void {
    this.post({ k: 'pub', topic, msg });
  }
  subscribe(topic: string): void {
    this.topics.add(topic);
    this.post({ k: 'sub', topic });
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
    this.post({ k: 'unsub', topic });
  }
  settled(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const id = ++this.next;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ k: 'settle', id });
    });
  }
  onMessage(handler: (topic: string, msg: BusMessage) => void): void {
    this.handler = handler;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    this.port.close();
  }
}

/** The main thread's end of a PortBroker: a member of `network` standing in for the thread. */
export function bridgeToPort(network: MemoryNetwork, port: MessagePort): { close(): void } {
  const here = new MemoryBroker(network);
  here.onMessage((topic, msg) => port.postMessage({ k: 'msg', topic, msg } satisfies Down));
  port.on('message', (m: Up) => {
    if (m.k === 'pub') here.publish(m.topic, m.msg);
    else if (m.k === 'sub') here.subscribe(m.topic);
    else if (m.k === 'unsub') here.unsubscribe(m.topic);
    // Everything the thread sent before this is in effect: the port keeps the order.
    else port.postMessage({ k: 'settled', id: m.id } satisfies Down);
  });
  return {
    close() {
      void here.close();
      port.close();
    },
  };
}

/**
 * The Redis broker: fan-out between nodes over Redis pub/sub. One connection publishes, one
 * subscribes (a subscribed Redis connection can do nothing else). Frames travel as they are,
 * behind a one-line header with what the hub routes by, so no node re-serializes an event.
 *
 * Pub/sub delivers to whoever listens at that moment; a node that misses messages (Redis
 * restarted, connection dropped) relies on the seq order check: the next event of a channel
 * shows the gap and the hub fills it from the channel's event log.
 */
import type { Redis } from 'ioredis';
import { ioredis } from '../platform/lazy-deps.js';
import type { Broker, BusMessage } from './broker.js';

export class RedisBroker implements Broker {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly topics = new Set<string>();
  private handler: (topic: string, msg: BusMessage) => void = () => {};

  constructor(
    url: string,
    private readonly prefix = 'parley:',
  ) {
    this.pub = new (ioredis().Redis)(url, { lazyConnect: false, maxRetriesPerRequest: null, enableOfflineQueue: true });
    this.sub = new (ioredis().Redis)(url, { lazyConnect: false, maxRetriesPerRequest: null, enableOfflineQueue: true });
    // Connection errors are retried by ioredis; they must not crash the process.
    this.pub.on('error', () => {});
    this.sub.on('error', () => {});
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString(), message));
  }

  /** The command connection, shared with other Redis users of the node (rate limits, presence). */
  get client(): Redis {
    return this.pub;
  }

  /** Resolves once both connections are ready (tests and start-up checks). */
  async ready(): Promise<void> {
    await Promise.all([this.pub.ping(), this.sub.ping()]);
  }

  /** A round trip on the subscriber connection: Redis answers in order, after the (UN)SUBSCRIBEs sent before it. */
  settled(): Promise<void> {
    return this.sub.ping().then(
      () => {},
      () => {},
    );
  }

  publish(topic: string, msg: BusMessage): void {
    // A fourth field only when the frame is for one connection (call signalling), a fifth only
    // for a shadowed message's author (moderation/shadow.ts), a sixth only for an event that
    // moves unread counts (its author, possibly empty).
    const tail =
      msg.counts !== undefined
        ? `\t${msg.conn ?? ''}\t${msg.shadow ?? ''}\t${msg.counts}`
        : msg.shadow
          ? `\t${msg.conn ?? ''}\t${msg.shadow}`
          : msg.conn
            ? `\t${msg.conn}`
            : '';
    const header = `${msg.type}\t${msg.seq ?? ''}\t${msg.cid ?? ''}${tail}\n`;
    void this.pub.publish(this.prefix + topic, header + msg.frame).catch(() => {});
  }

  subscribe(topic: string): void {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    void this.sub.subscribe(this.prefix + topic).catch(() => {});
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    void this.sub.unsubscribe(this.prefix + topic).catch(() => {});
  }

  onMessage(handler: (topic: string, msg: BusMessage) => void): void {
    this.handler = handler;
  }

  private receive(channel: string, raw: Buffer): void {
    if (!channel.startsWith(this.prefix)) return;
    const topic = channel.slice(this.prefix.length);
    if (!this.topics.has(topic)) return;
    const text = raw.toString('utf8');
    const nl = text.indexOf('\n');
    if (nl < 0) return;
    const [type = '', seq = '', cid = '', conn = '', shadow = '', counts] = text.slice(0, nl).split('\t');
    const msg: BusMessage = { type, frame: text.slice(nl + 1) };
    if (seq !== '') msg.seq = Number(seq);
    if (cid !== '') msg.cid = cid;
    if (conn !== '') msg.conn = conn;
    if (shadow !== '') msg.shadow = shadow;
    if (counts !== undefined) msg.counts = counts;
    this.handler(topic, msg);
  }

  async close(): Promise<void> {
    this.topics.clear();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

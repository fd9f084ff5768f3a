/**
 * The broker carries events between gateway nodes. A node subscribes to a topic while it
 * has a local connection interested in it. The in-process broker is the embedded default;
 * the Redis broker (scale-out) implements the same interface and passes the same
 * conformance suite.
 *
 * Topics: `c:<appId>:<cid>` for channel events, `u:<appId>:<userId>` for per-user events,
 * `s:<appId>` for an app's spaces,
 * `p:<appId>:<userId>` for a user's presence changes (to those who follow them).
 */

/** What travels on the bus: the exact frame clients receive, plus what the hub routes by. */
export interface BusMessage {
  /** Event type (`message.new`, `channel.added`, …). */
  type: string;
  /** Channel seq for logged channel events; absent for live-only events. */
  seq?: number;
  /** The channel the event is about, when there is one (user topics use it for `channel.added`). */
  cid?: string;
  /** On a user topic: the one connection (by id) the frame is for; absent = all of the user's. */
  conn?: string;
  /** The serialized event frame, written unchanged to every local subscriber. */
  frame: string;
  /** About a shadowed message: only this user (its author) and moderators get the frame. */
  shadow?: string;
  /**
   * On a channel topic: the event moves the unread counts of the channel's members, all but
   * this user's (the message's author; '' for none). Each node pushes the new counts to its own
   * connected members (features/reads/push.ts), so no node reads the counts of someone offline.
   */
  counts?: string;
}

export interface Broker {
  publish(topic: string, msg: BusMessage): void;
  /** Start receiving messages published to `topic` (idempotent). */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /**
   * Resolves (never rejects) once the subscribe and unsubscribe calls made so far are in
   * effect: a message published after it reaches this node exactly as they say. For callers
   * that must know, such as tests; the hub needs not wait.
   */
  settled(): Promise<void>;
  /** Set the single receiver of this node's messages. */
  onMessage(handler: (topic: string, msg: BusMessage) => void): void;
  close(): Promise<void>;
}

export const channelTopic = (appId: string, cid: string) => `c:${appId}:${cid}`;
export const userTopic = (appId: string, userId: string) => `u:${appId}:${userId}`;
/** A user's presence changes, for the connections that follow them (`presence.subscribe`). */
export const presenceTopic = (appId: string, userId: string) => `p:${appId}:${userId}`;
/** An app's spaces (`space.updated`), for the connections that watch them (`spaces.watch`). */
export const spacesTopic = (appId: string) => `s:${appId}`;
/** App-wide events (`emoji.updated`), for every connection of the app. */
export const appTopic = (appId: string) => `a:${appId}`;

/** A process-local network: every MemoryBroker on it sees the others' publishes. */
export class MemoryNetwork {
  readonly brokers = new Set<MemoryBroker>();
}

/**
 * In-process broker. Delivery is synchronous and in publish order, which is what the
 * embedded single-process server wants; tests put several on one MemoryNetwork to act
 * as several nodes.
 */
export class MemoryBroker implements Broker {
  private readonly topics = new Set<string>();
  private handler: (topic: string, msg: BusMessage) => void = () => {};
  constructor(readonly network: MemoryNetwork = new MemoryNetwork()) {
    network.brokers.add(this);
  }
  publish(topic: string, msg: BusMessage): void {
    for (const b of this.network.brokers) if (b.topics.has(topic)) b.handler(topic, msg);
  }
  subscribe(topic: string): void {
    this.topics.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }
  settled(): Promise<void> {
    return Promise.resolve();
  }
  onMessage(handler: (topic: string, msg: BusMessage) => void): void {
    this.handler = handler;
  }
  async close(): Promise<void> {
    this.network.brokers.delete(this);
    this.topics.clear();
  }
}

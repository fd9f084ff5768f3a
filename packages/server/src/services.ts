/**
 * The services one server instance is built from, created once in `buildServer` and passed
 * to every feature. Features reach the database, the bus and each other only through here.
 */
import { LOGGED_EVENT_TYPES } from '@parley/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { ChatSessions } from './features/accounts/chat-sessions.js';
import type { SendBatcher } from './features/messages/send-batch.js';
import type { Presence } from './features/presence/presence.js';
import type { Typing } from './features/typing/typing.js';
import type { Config } from './platform/config.js';
import type { Database, Db } from './platform/db/index.js';
import type { Metrics } from './platform/metrics.js';
import type { RateLimiter } from './platform/rate-limit.js';
import type { AppRegistry } from './platform/tenancy.js';
import { type Broker, type BusMessage, channelTopic, userTopic } from './realtime/broker.js';
import type { Hub } from './realtime/hub.js';

export interface Services {
  config: Config;
  database: Database;
  db: Db;
  log: FastifyBaseLogger;
  metrics: Metrics;
  apps: AppRegistry;
  broker: Broker;
  bus: Bus;
  hub: Hub;
  presence: Presence;
  limiter: RateLimiter;
  typing: Typing;
  /** Group commit for plain sends. */
  sends: SendBatcher;
  /** Which account-minted chat tokens still work; ends them on every node. */
  chatSessions: ChatSessions;
}

const LOGGED = new Set<string>(LOGGED_EVENT_TYPES);

/** A channel or user event to publish once its transaction has committed. */
export type Outgoing =
  | {
      to: 'channel';
      appId: string;
      cid: string;
      event: { type: string; seq?: number } & Record<string, unknown>;
      frame?: string;
    }
  | { to: 'user'; appId: string; userId: string; event: { type: string; cid?: string } & Record<string, unknown> };

/**
 * Publishing. Callers hand over events only after commit; each is serialized exactly once
 * here (or was already, when its log row was written) and the bytes go to the broker.
 */
export class Bus {
  constructor(private readonly broker: Broker) {}

  publish(events: readonly Outgoing[]): void {
    // One event often goes to many users (presence, @channel): serialize each object once.
    const frames = new Map<object, string>();
    const frameOf = (event: object) => {
      let f = frames.get(event);
      if (f === undefined) {
        f = JSON.stringify(event);
        frames.set(event, f);
      }
      return f;
    };
    for (const e of events) {
      if (e.to === 'channel') {
        const msg: BusMessage = { type: e.event.type, cid: e.cid, frame: e.frame ?? frameOf(e.event) };
        // Only logged events are ordered by seq; a live event's `seq` (read.updated's read
        // mark) is data, not a position in the channel's log.
        if (LOGGED.has(e.event.type) && typeof e.event.seq === 'number') msg.seq = e.event.seq;
        this.broker.publish(channelTopic(e.appId, e.cid), msg);
      } else {
        const msg: BusMessage = { type: e.event.type, frame: frameOf(e.event) };
        if (e.event.cid) msg.cid = e.event.cid;
        this.broker.publish(userTopic(e.appId, e.userId), msg);
      }
    }
  }
}

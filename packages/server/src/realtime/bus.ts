/**
 * The bus: how actions publish events once their transaction has committed. Each event is
 * serialized exactly once here (or was already, when its log row was written) and the bytes go
 * to the broker. Events are typed with the protocol's unions, so what a feature publishes is
 * what `parseServerFrame` in the SDK accepts.
 */
import { type ChannelEvent, LOGGED_EVENT_TYPES, type ServerEvent, type WebhookUserEvent } from '@parley/protocol';
import { rememberEvent, startSpan, tracingOn } from '../platform/tracing.js';
import {
  appTopic,
  type Broker,
  type BusMessage,
  channelTopic,
  presenceTopic,
  spacesTopic,
  userTopic,
} from './broker.js';

/** An event that concerns one channel: every event with a `cid`. */
export type ChannelTopicEvent = Extract<ServerEvent, { cid: string }>;

/** A channel or user event to publish once its transaction has committed. */
export type Outgoing =
  | {
      to: 'channel';
      appId: string;
      cid: string;
      event: ChannelTopicEvent;
      /** The event's text, when it was already serialized (for its log row). */
      frame?: string;
      /** About a shadowed message: only its author (this id) and moderators receive it. */
      shadowOf?: string;
      /**
       * A `message.updated` that moves its members' unread counts (an edit that adds or takes
       * out @channel moves every mention count but the author's): see `unreadAuthor`.
       */
      movesCounts?: true;
    }
  /** `connectionId`: only that one socket of the user gets it (a call's signalling to one device). */
  | { to: 'user'; appId: string; userId: string; event: ServerEvent; connectionId?: string }
  /** A user's presence change, to the connections that follow that user (`presence.subscribe`). */
  | { to: 'presence'; appId: string; userId: string; event: ServerEvent }
  /** A change of the app's spaces, to the connections that watch them (`spaces.watch`). */
  | { to: 'spaces'; appId: string; event: ServerEvent }
  /** An app-wide change (`emoji.updated`), to every connection of the app. */
  | { to: 'app'; appId: string; event: ServerEvent }
  /**
   * A user-level event for webhook endpoints only (`user.updated`, …): no socket gets it; the
   * webhook outbox (features/webhooks/outbox.ts) records it in the same transaction.
   */
  | { to: 'webhooks'; appId: string; userId: string; event: WebhookUserEvent };

const LOGGED = new Set<string>(LOGGED_EVENT_TYPES);

/**
 * Whether a channel event moves its members' unread counts, and whose it leaves alone: the
 * author of a new or deleted message that counts (regular, in the channel's view), or of an
 * edit marked `movesCounts`. A shadowed
 * message counts for no one but is seen by its author only, so it moves nothing. `undefined`:
 * it moves no counts. What the other changes of counts (reads, joins, mutes) move is said by the
 * actions themselves (features/reads/push.ts).
 */
export function unreadAuthor(e: Extract<Outgoing, { to: 'channel' }>): string | undefined {
  const ev = e.event;
  if (e.shadowOf) return undefined;
  if (ev.type === 'message.updated') return e.movesCounts ? ev.message.user_id : undefined;
  if (ev.type !== 'message.new' && ev.type !== 'message.deleted') return undefined;
  const m = ev.message;
  if (m.parent_id !== null && !m.show_in_channel) return undefined;
  if (ev.type === 'message.new' && m.type !== 'regular') return undefined;
  return m.user_id ?? '';
}
/** Only logged events hold a place in the channel's seq order; read.updated's `seq` is a read mark. */
const isLogged = (e: ServerEvent): e is ChannelEvent => LOGGED.has(e.type);

export class Bus {
  /**
   * Sees every batch of committed events once, on the node that publishes it, after they went
   * to the broker (features/reads' unread pushes follow what moves counts). Never throws back.
   */
  onPublished: ((events: readonly Outgoing[]) => void) | null = null;

  constructor(private readonly broker: Broker) {}

  /**
   * Publish committed events. Traced (platform/tracing.ts): in a `publish` span, which the webhook
   * deliveries of its channel events continue — unless the caller made its own (`traced`).
   */
  publish(events: readonly Outgoing[], opts?: { traced?: boolean }): void {
    if (!tracingOn() || opts?.traced) {
      this.send(events);
      this.onPublished?.(events);
      return;
    }
    const started = startSpan('publish', { kind: 'producer', attributes: { 'parley.events': events.length } });
    if (started)
      for (const e of events)
        if (e.to === 'channel' && isLogged(e.event)) rememberEvent(e.appId, `${e.cid}:${e.event.seq}`, started.ctx);
    try {
      this.send(events);
    } finally {
      started?.span.end();
    }
    this.onPublished?.(events);
  }

  private send(events: readonly Outgoing[]): void {
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
      if (e.to === 'webhooks') continue;
      if (e.to === 'spaces' || e.to === 'app') {
        const topic = e.to === 'app' ? appTopic(e.appId) : spacesTopic(e.appId);
        this.broker.publish(topic, { type: e.event.type, frame: frameOf(e.event) });
        continue;
      }
      if (e.to === 'channel') {
        const msg: BusMessage = { type: e.event.type, cid: e.cid, frame: e.frame ?? frameOf(e.event) };
        if (isLogged(e.event)) msg.seq = e.event.seq;
        if (e.shadowOf) msg.shadow = e.shadowOf;
        const author = unreadAuthor(e);
        if (author !== undefined) msg.counts = author;
        this.broker.publish(channelTopic(e.appId, e.cid), msg);
      } else {
        const msg: BusMessage = { type: e.event.type, frame: frameOf(e.event) };
        if ('cid' in e.event) msg.cid = e.event.cid;
        if (e.to === 'user' && e.connectionId) msg.conn = e.connectionId;
        // Where a member's new subscription starts, so the gateway need not parse the frame.
        if (e.event.type === 'channel.added' && e.event.channel) msg.seq = e.event.channel.last_seq;
        this.broker.publish((e.to === 'user' ? userTopic : presenceTopic)(e.appId, e.userId), msg);
      }
    }
  }
}

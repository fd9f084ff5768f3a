/**
 * Frame order is send order, per connection and channel. The gateway handles a socket's frames
 * side by side, and a send's checks (rate limit, the app's hooks, automod, mentions) take their
 * own time, so two sends of one connection for one channel could otherwise reach the send order
 * (the batcher's queue, send-batch.ts, or a transaction of their own) the other way round. A
 * client that keeps several sends in flight (the SDK's outbox does) relies on this order.
 *
 * Each `message.send` frame takes a turn when it arrives. Its checks run at once; it then waits
 * until the send before it has entered: a plain send waits for the one before to be queued in
 * the batcher (which keeps a channel's queue in order), a send of its own transaction (reply,
 * quote, links, files, @channel) for the one before to be done.
 *
 * A send that fails with a retryable error (rate limit, database unavailable) breaks the chain:
 * every later send of the chain fails with the same error, until its id is sent again (the
 * SDK resends from that send, in order, with the same ids) or `BREAK_MS` passes. Without this, a
 * later send already on the wire would be stored ahead of the failed one's retry.
 */
import { ERRORS } from '@parley/protocol';
import { toApiError } from '../../platform/errors.js';
import type { Connection } from '../../realtime/connection.js';

/** How long a retryable failure holds back the later sends of its chain, at most. */
const BREAK_MS = 30_000;

interface Link {
  n: number;
  queued: Promise<void>;
  settled: Promise<void>;
  enter(): void;
  end(): void;
}

interface Chain {
  next: number;
  last: Link | null;
  /** Links numbered in (from, to) fail with `error`; `to` is set by the failed id's resend. */
  broken: { id: string; error: unknown; from: number; to: number; at: number } | null;
}

/** One send's place in its chain. */
export interface Turn {
  /**
   * Wait for the send before to be queued (`queued`: this send goes to the batcher) or done
   * (`settled`: this send runs its own transaction); throws the error of a broken chain.
   */
  ready(wait: 'queued' | 'settled'): Promise<void>;
  /** This send is in the batcher's queue: the next may enter behind it. */
  entered(): void;
  /** This send is done (`err`: how it failed). */
  ended(err?: unknown): void;
}

const chainsOf = new WeakMap<Connection, Map<string, Chain>>();

/** Take the next turn of `conn`'s sends to `cid` (call it as the frame arrives, before any await). */
export function takeTurn(conn: Connection, cid: string, id: string | undefined, now = Date.now()): Turn {
  let chains = chainsOf.get(conn);
  if (!chains) {
    chains = new Map();
    chainsOf.set(conn, chains);
  }
  const all = chains;
  let c = all.get(cid);
  if (!c) {
    c = { next: 0, last: null, broken: null };
    all.set(cid, c);
  }
  const n = c.next++;
  if (c.broken && c.broken.to === Number.POSITIVE_INFINITY && now - c.broken.at > BREAK_MS) c.broken = null;
  if (c.broken && id === c.broken.id && c.broken.to === Number.POSITIVE_INFINITY) c.broken.to = n;
  const prev = c.last;
  let enter = () => {};
  let end = () => {};
  const queued = new Promise<void>((r) => (enter = r));
  const settled = new Promise<void>((r) => (end = r));
  const link: Link = { n, queued, settled, enter, end };
  c.last = link;
  let done = false;
  return {
    async ready(wait) {
      if (prev) await (wait === 'queued' ? prev.queued : prev.settled);
      const b = c.broken;
      if (b && n > b.from && n < b.to) throw b.error;
    },
    entered() {
      link.enter();
    },
    ended(err) {
      if (done) return;
      done = true;
      if (err !== undefined && id !== undefined && ERRORS[toApiError(err).error.code].retryable) {
        const b = c.broken;
        // The first failure of a break stands (later ones of the chain fail because of it).
        if (!b || n <= b.from || n >= b.to)
          c.broken = { id, error: err, from: n, to: Number.POSITIVE_INFINITY, at: Date.now() };
      }
      link.enter();
      link.end();
      if (c.last === link && !c.broken) all.delete(cid);
    },
  };
}

/**
 * The outbox: sends waiting to be stored by the server, in order. A send is persisted before it
 * goes out and shown at once as `sending`. Up to `window` sends are in flight at once, in queue
 * order: the server stores the sends of one connection to one channel in the order their frames
 * arrive (server features/messages/send-order.ts), so keeping several on the wire keeps their
 * order while a round trip no longer bounds the rate.
 *
 * A failure that may pass (lost connection, rate limit, server hiccup) stops new sends; once
 * those in flight have answered, the outbox starts again from its head, every send with the
 * same id, so a message is never stored twice. The server fails the later sends of a channel
 * after a retryable failure until the failed one comes again, so none is stored ahead of it.
 * A send refused for good (a typed 4xx) is marked failed and the others go on.
 */
import type { Message, Poll, PollInput, ReplyBody, RequestBody } from '@parley/protocol';
import { ParleyError } from './errors.js';
import { type ChannelState, type LocalMessage, upsertMessage } from './state.js';

/** A send waiting in the outbox (persisted, so it survives a restart). */
export interface OutboxEntry {
  cid: string;
  message: {
    id: string;
    text: string;
    parent_id?: string | null;
    quoted_message_id?: string | null;
    show_in_channel?: boolean;
    /** Ids of files already uploaded (see uploads.ts). */
    attachments?: string[];
    /** A poll the message carries (its text is the question). */
    poll?: PollInput;
  };
  created_at: string;
}

/** What the outbox needs from the client. */
export interface OutboxHost {
  /** The client's `request` (called through the client, so it can be wrapped). */
  request(type: 'message.send', body: RequestBody<'message.send'>): Promise<ReplyBody<'message.send'>>;
  isOnline(): boolean;
  updateChannel(cid: string, fn: (c: ChannelState) => ChannelState): void;
  findLocal(cid: string, id: string): LocalMessage | undefined;
  /** Persist the outbox (it must survive a restart before a send goes out). */
  save(entries: readonly OutboxEntry[]): Promise<void>;
}

type Waiter = { resolve(m: LocalMessage): void; reject(e: ParleyError): void };

/** Sends in flight at once by default (bench/client-send.ts measures the rate it gives). */
export const SEND_WINDOW = 64;

export class Outbox {
  /** The queued sends, in send order (those in flight included). */
  entries: OutboxEntry[] = [];
  private readonly ackWaiters = new Map<string, Waiter[]>();
  /** Sends on the wire, not answered yet. */
  private readonly inFlight = new Set<OutboxEntry>();
  /** A failure that may pass: no new sends until those in flight have answered, then a retry. */
  private halted: ParleyError | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Bumped by `reset`: answers to sends of before it change nothing. */
  private generation = 0;
  private saving: Promise<void> | null = null;
  private saveAgain: Promise<void> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly window: number;

  constructor(
    private readonly host: OutboxHost,
    /** Sends in flight at once (1: one at a time). */
    window = SEND_WINDOW,
  ) {
    this.window = Math.max(1, Math.floor(window));
  }

  /** Queue a send (persisted first), show it as pending, and flush; resolves once it is stored. */
  async enqueue(entry: OutboxEntry, local: LocalMessage): Promise<LocalMessage> {
    this.entries = [...this.entries.filter((o) => o.message.id !== entry.message.id), entry];
    this.showLocal(local);
    const acked = new Promise<LocalMessage>((resolve, reject) => {
      const list = this.ackWaiters.get(local.id) ?? [];
      list.push({ resolve, reject });
      this.ackWaiters.set(local.id, list);
    });
    await this.persist();
    void this.flush();
    return acked;
  }

  /** Put a message (local or stored) into its channel's view and thread. */
  showLocal(m: LocalMessage): void {
    this.host.updateChannel(m.cid, (c) => {
      let next = c;
      if (m.parent_id && c.threads[m.parent_id]) {
        next = { ...next, threads: { ...next.threads, [m.parent_id]: upsertMessage(c.threads[m.parent_id] ?? [], m) } };
      }
      if (!m.parent_id || m.show_in_channel) {
        next = { ...next, messages: upsertMessage(next.messages, m) };
        // A new send is the channel's latest activity: show it as the last message and move
        // the channel up the list at once, not only when the server's message.new arrives.
        const last = next.channel.last_message_at;
        if (m.status === 'sending' && (!last || m.created_at > last))
          next = { ...next, channel: { ...next.channel, last_message: m, last_message_at: m.created_at } };
      }
      return next;
    });
  }

  /**
   * Send queued messages in order, up to `window` at once; resolves when none is in flight
   * (all sent, offline, or stopped by a failure that may pass, to be tried again).
   */
  flush(): Promise<void> {
    // A new attempt after a failure that may pass starts again from the head.
    if (this.inFlight.size === 0) this.halted = null;
    this.pump();
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.halted && this.inFlight.size < this.window && this.host.isOnline()) {
      const entry = this.entries.find((o) => !this.inFlight.has(o));
      if (!entry) break;
      this.inFlight.add(entry);
      void this.send(entry);
    }
    if (this.inFlight.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async send(entry: OutboxEntry): Promise<void> {
    const generation = this.generation;
    let failure: ParleyError | null = null;
    try {
      const r = await this.host.request('message.send', { cid: entry.cid, message: entry.message });
      if (generation !== this.generation) return;
      const m: LocalMessage = { ...r.message, status: 'sent' };
      this.showLocal(m);
      this.settle(m);
    } catch (e) {
      if (generation !== this.generation) return;
      const err = e instanceof ParleyError ? e : new ParleyError('INTERNAL', String(e), { retryable: false });
      if (err.retryable) failure = err;
      else this.markFailed(entry, err);
    } finally {
      if (generation === this.generation) this.inFlight.delete(entry);
    }
    if (failure) {
      // Stays queued; the first such failure says how long to wait.
      this.halted ??= failure;
    } else {
      // Answers come about in queue order: the entry is found near the head.
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries = this.entries.slice(0, i).concat(this.entries.slice(i + 1));
      this.persistSoon();
    }
    if (this.halted && this.inFlight.size === 0) {
      // Lost connection: the next hello flushes. A server-side hiccup: try again shortly.
      const halted = this.halted;
      const wait = halted.code === 'RATE_LIMITED' ? retryAfter(halted.details) : 1_000;
      if (this.host.isOnline())
        setTimeout(() => {
          if (generation === this.generation && this.halted === halted) void this.flush();
        }, wait);
    }
    this.pump();
  }

  /**
   * Save the queue a little later, once for every send answered meanwhile: saving the whole
   * queue at each answer costs quadratic time in a burst. A restart before the save lands
   * sends those again, and their ids make that safe.
   */
  private persistSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.persist().catch(() => {});
    }, 50);
  }

  /** Save the queue; saves asked for while one runs are made once, after it, with the queue then. */
  private persist(): Promise<void> {
    if (this.saveAgain) return this.saveAgain;
    if (!this.saving) return this.startSave();
    const again = () => {
      this.saveAgain = null;
      return this.startSave();
    };
    this.saveAgain = this.saving.then(again, again);
    return this.saveAgain;
  }

  private startSave(): Promise<void> {
    const p = this.host.save(this.entries).finally(() => {
      if (this.saving === p) this.saving = null;
    });
    this.saving = p;
    return p;
  }

  /** A stored message arrived (its reply or its message.new): resolve whoever waits for it. */
  settle(m: Message): void {
    const waiters = this.ackWaiters.get(m.id);
    if (!waiters) return;
    this.ackWaiters.delete(m.id);
    for (const w of waiters) w.resolve({ ...m, status: 'sent' });
  }

  /** Fail every waiting send (disconnectUser) and forget the queue; storage keeps it. */
  reset(): void {
    for (const list of this.ackWaiters.values())
      for (const w of list) w.reject(new ParleyError('DISCONNECTED', 'disconnected', { retryable: true }));
    this.ackWaiters.clear();
    this.entries = [];
    this.generation++;
    this.inFlight.clear();
    this.halted = null;
    this.pump();
  }

  private markFailed(entry: OutboxEntry, err: ParleyError): void {
    const local = this.host.findLocal(entry.cid, entry.message.id);
    if (local) this.showLocal({ ...local, status: 'failed', error: { code: err.code, message: err.message } });
    for (const w of this.ackWaiters.get(entry.message.id) ?? []) w.reject(err);
    this.ackWaiters.delete(entry.message.id);
  }
}

/** RATE_LIMITED carries `details.retry_after_ms`; without it, wait a second. */
function retryAfter(details: unknown): number {
  const ms =
    typeof details === 'object' && details !== null
      ? (details as { retry_after_ms?: unknown }).retry_after_ms
      : undefined;
  return typeof ms === 'number' ? ms : 1_000;
}

/** The local, not-yet-stored form of a queued message. */
export function pendingMessage(o: OutboxEntry, userId: string): LocalMessage {
  return {
    id: o.message.id,
    cid: o.cid,
    seq: 0,
    user_id: userId,
    type: 'regular',
    text: o.message.text,
    parent_id: o.message.parent_id ?? null,
    show_in_channel: !!o.message.show_in_channel,
    reply_count: 0,
    last_reply_at: null,
    thread_participants: [],
    quoted_message_id: o.message.quoted_message_id ?? null,
    reactions: {},
    own_reactions: [],
    latest_reactions: [],
    mentioned_users: [],
    mentioned_here: false,
    mentioned_channel: false,
    pinned: false,
    pinned_at: null,
    pinned_by: null,
    edited_at: null,
    created_at: o.created_at,
    updated_at: o.created_at,
    deleted_at: null,
    // A poll shows at once, every tally zero, as the server will store it.
    ...(o.message.poll ? { poll: pendingPoll(o.message.poll) } : {}),
    status: 'sending',
  };
}

function pendingPoll(p: PollInput): Poll {
  return {
    options: p.options.map((text, i) => ({ id: String(i), text: text.trim(), vote_count: 0, voters: [] })),
    multiple: !!p.multiple,
    anonymous: !!p.anonymous,
    ends_at: p.ends_at ?? null,
    closed_at: null,
    closed_by: null,
    voter_count: 0,
    own_votes: [],
  };
}

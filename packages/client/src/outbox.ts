/**
 * The outbox: sends waiting to be stored by the server, in order. A send is persisted before it
 * goes out, shown at once as `sending`, and sent one at a time; a failure that may pass (lost
 * connection, rate limit, server hiccup) leaves it at the head to be tried again with the same
 * id, so a message is never stored twice.
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

export class Outbox {
  /** The queued sends, in send order. */
  entries: OutboxEntry[] = [];
  private flushing: Promise<void> | null = null;
  private readonly ackWaiters = new Map<string, Waiter[]>();

  constructor(private readonly host: OutboxHost) {}

  /** Queue a send (persisted first), show it as pending, and flush; resolves once it is stored. */
  async enqueue(entry: OutboxEntry, local: LocalMessage): Promise<LocalMessage> {
    this.entries = [...this.entries.filter((o) => o.message.id !== entry.message.id), entry];
    this.showLocal(local);
    const acked = new Promise<LocalMessage>((resolve, reject) => {
      const list = this.ackWaiters.get(local.id) ?? [];
      list.push({ resolve, reject });
      this.ackWaiters.set(local.id, list);
    });
    await this.host.save(this.entries);
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

  /** Send queued messages one at a time, in order; stop at the first failure that may pass. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const run = async () => {
      await Promise.resolve(); // so `flushing` is set before the loop can finish
      try {
        while (this.entries.length && this.host.isOnline()) {
          const entry = this.entries[0] as OutboxEntry;
          try {
            const r = await this.host.request('message.send', { cid: entry.cid, message: entry.message });
            const m: LocalMessage = { ...r.message, status: 'sent' };
            this.showLocal(m);
            this.settle(m);
          } catch (e) {
            const err = e instanceof ParleyError ? e : new ParleyError('INTERNAL', String(e), { retryable: false });
            if (err.retryable) {
              // Lost connection: the next hello flushes. A server-side hiccup: try again shortly.
              const wait = err.code === 'RATE_LIMITED' ? retryAfter(err.details) : 1_000;
              if (this.host.isOnline()) setTimeout(() => void this.flush(), wait);
              break;
            }
            this.markFailed(entry, err);
          }
          this.entries = this.entries.filter((o) => o !== entry);
          await this.host.save(this.entries);
        }
      } finally {
        this.flushing = null;
      }
    };
    this.flushing = run();
    return this.flushing;
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

/**
 * Persistence: the glue between client state and the storage adapter. What is kept: the
 * channels the user belongs to, with their recent stored messages and counters, the users
 * seen, and (under its own key, written at once by the outbox) the unsent messages. Writes
 * are coalesced (one per 300 ms at most); a restore puts all of it back before the network
 * answers.
 */
import type { Channel, Member, User } from '@parley/protocol';
import { type OutboxEntry, pendingMessage } from './outbox.js';
import {
  type ChannelState,
  type ClientState,
  channelStateFrom,
  type LocalMessage,
  sortChannelList,
  totals,
  upsertMessage,
} from './state.js';
import type { StorageAdapter } from './storage.js';
import type { Store } from './store.js';

interface Persisted {
  v: 1;
  channels: {
    channel: Channel;
    members: Member[];
    messages: LocalMessage[];
    lastSeq: number;
    loaded: boolean;
    /** A read mark not yet confirmed by the server (`ChannelState.unsentRead`). */
    unsentRead?: { seq: number; rev?: number };
  }[];
  users: Record<string, User>;
  /** The server's data epoch these seqs belong to (absent in state saved by older versions). */
  epoch?: string;
}

export class Persistence {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly storage: StorageAdapter,
    private readonly state: Store<ClientState>,
    private readonly apiKey: string,
    /** The connected user (null: nothing is persisted). */
    private readonly userId: () => string | null,
    /** How many recent messages per channel are kept. */
    private readonly keepMessages: number,
  ) {}

  private key(what: string): string {
    return `parley:${this.apiKey}:${this.userId() ?? '-'}:${what}`;
  }

  /** Write the state soon (coalesced). */
  schedule(): void {
    if (this.timer || !this.userId()) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.now();
    }, 300);
  }

  /** Write the state now. */
  async now(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.userId()) return;
    const s = this.state.get();
    const data: Persisted = {
      v: 1,
      channels: Object.values(s.channels)
        .filter((c) => c.channel.membership)
        .map((c) => ({
          channel: { ...c.channel, unread_count: c.unreadCount, mention_count: c.mentionCount },
          // Each with the read mark the state holds: `read.updated` moves `read`, not the member
          // entry, and a restart without a fresh member list would bring back an older mark (one
          // a reader has since hidden: theirs now shows 0).
          members: Object.values(c.members).map((m) => ({
            ...m,
            last_read_seq: c.read[m.user_id] ?? m.last_read_seq,
            ...(c.readRevs?.[m.user_id] !== undefined ? { read_rev: c.readRevs[m.user_id] } : {}),
            ...(c.readAt?.[m.user_id] !== undefined ? { last_read_at: c.readAt[m.user_id] } : {}),
          })),
          messages: c.messages.filter((m) => m.status === 'sent').slice(-this.keepMessages),
          lastSeq: c.lastSeq,
          loaded: c.loaded,
          ...(c.unsentRead !== undefined ? { unsentRead: c.unsentRead } : {}),
        })),
      users: s.users,
      ...(s.epoch ? { epoch: s.epoch } : {}),
    };
    try {
      await this.storage.set(this.key('state'), data);
    } catch {
      // storage full or unavailable: the network remains the source of truth
    }
  }

  /** Persist the outbox (before its sends go out, so they survive a restart). */
  saveOutbox(entries: readonly OutboxEntry[]): Promise<void> {
    return this.storage.set(this.key('outbox'), entries);
  }

  /**
   * Load channels, recent messages and the outbox from storage: the outbox goes to `setOutbox`
   * first, then the rest into state (so state subscribers see the outbox already there).
   */
  async restore(setOutbox: (entries: OutboxEntry[]) => void): Promise<void> {
    const [data, stored] = await Promise.all([
      this.storage.get<Persisted>(this.key('state')).catch(() => undefined),
      this.storage.get<OutboxEntry[]>(this.key('outbox')).catch(() => undefined),
    ]);
    const channels: Record<string, ChannelState> = {};
    for (const p of data?.v === 1 ? data.channels : []) {
      const c = channelStateFrom(p.channel, p.members);
      channels[p.channel.cid] = {
        ...c,
        messages: p.messages,
        lastSeq: p.lastSeq,
        // The stored counts are stale: the first snapshot after the restart replaces them.
        countsSeq: 0,
        countDeltas: undefined,
        loaded: p.loaded,
        ...(p.unsentRead !== undefined ? { unsentRead: p.unsentRead } : {}),
        hasOlder: (p.messages[0]?.seq ?? p.lastSeq) > 1,
      };
    }
    const outbox = stored ?? [];
    setOutbox(outbox);
    const me = this.userId() ?? '';
    for (const o of outbox) {
      const c = channels[o.cid];
      if (!c) continue;
      const local = pendingMessage(o, me);
      channels[o.cid] =
        o.message.parent_id && !o.message.show_in_channel ? c : { ...c, messages: upsertMessage(c.messages, local) };
    }
    this.state.update((s) => ({
      ...s,
      channels,
      channelList: sortChannelList(channels),
      users: data?.users ?? {},
      ...(data?.epoch ? { epoch: data.epoch } : {}),
      ...totals(channels),
    }));
  }
}

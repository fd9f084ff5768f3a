/**
 * A channel handle: watch it, send and edit messages (optimistically), react, read, type.
 * Its state lives in the client's store (`channel.state`, `channel.subscribe`).
 */
import {
  type ChannelNotifyLevel,
  type ChannelResponse,
  type CreateChannelResponse,
  type Member,
  type MemberResponse,
  type Message,
  type MessageResponse,
  type MessagesResponse,
  type Poll,
  type PollInput,
  type PollResponse,
  type QueryChannelsResponse,
  type ReadByResponse,
  type ReadStateResponse,
  uuidv7,
} from '@parley/protocol';
import { type CatchUpOptions, type CatchUpProgress, catchUpStream } from './assistant.js';
import { ParleyError } from './errors.js';
import type { ChannelHost } from './host.js';
import { pendingMessage } from './outbox.js';
import {
  type ChannelState,
  countsFrom,
  countsSeqOf,
  type LocalMessage,
  mergeMemberPage,
  mergeMessages,
  mergeSnapshot,
  newerRead,
  readByOf,
  replaceEverywhere,
  setPoll,
  settleCounts,
  withMuted,
  withRead,
} from './state.js';
import { type AttachmentInput, type UploadProgress, Uploads } from './uploads.js';

/** Messages as the server stored them, for the local state. */
const sentAll = (ms: readonly Message[]): LocalMessage[] => ms.map((m) => ({ ...m, status: 'sent' }));
/** A page from the server in place of what was loaded: only the unsent stay beside it. */
const freshPage = (held: readonly LocalMessage[], page: readonly Message[]) =>
  mergeMessages(
    held.filter((m) => m.status !== 'sent'),
    sentAll(page),
  );

const TYPING_THROTTLE_MS = 2_000;
const TYPING_IDLE_MS = 3_000;

export interface SendOptions {
  text: string;
  id?: string;
  parent_id?: string | null;
  quoted_message_id?: string | null;
  show_in_channel?: boolean;
  /** Files (`File`/`Blob`, or a React Native `NativeFile`; uploaded first) or earlier uploads (`{ id }`), at most 10. */
  attachments?: readonly AttachmentInput[];
  /** Upload progress of this send's files. */
  onProgress?: (p: UploadProgress) => void;
  /** Make the message a poll: `text` is its question (needs `create-poll`). */
  poll?: PollInput;
}

export class Channel {
  private cidValue: string | null;
  private typingSent = new Map<string, number>();
  private typingIdle = new Map<string, ReturnType<typeof setTimeout>>();
  private uploadsValue: Uploads | null = null;
  private get uploads(): Uploads {
    this.uploadsValue ??= new Uploads(this.client);
    return this.uploadsValue;
  }
  /**
   * Bumped whenever the loaded window is replaced (reload, loadAround, jumpToLatest): a page
   * asked for before that belongs to the old window and is dropped when it arrives.
   */
  private viewEpoch = 0;

  constructor(
    private readonly client: ChannelHost,
    readonly type: string,
    private idValue: string | null,
    private readonly create?: { members: string[]; name?: string },
  ) {
    this.cidValue = idValue ? `${type}:${idValue}` : null;
  }

  /** `type:id`; for a DM made from members, known after `watch()` or `create()`. */
  get cid(): string {
    if (!this.cidValue)
      throw new ParleyError('VALIDATION_ERROR', 'This DM has no cid until watch() or create()', { retryable: false });
    return this.cidValue;
  }
  get id(): string | null {
    return this.idValue;
  }

  /**
   * Whether the server says this user may do `capability` here (the channel's
   * `own_capabilities`, docs/permissions.md); false until the channel is loaded.
   */
  can(capability: string): boolean {
    return this.state?.channel.own_capabilities?.includes(capability) ?? false;
  }

  /** This channel's state, if loaded. */
  get state(): ChannelState | undefined {
    return this.cidValue ? this.client.state.get().channels[this.cidValue] : undefined;
  }

  /** Be called when this channel's state changes. */
  subscribe(fn: (state: ChannelState | undefined) => void): () => void {
    let last = this.state;
    return this.client.state.subscribe((s) => {
      const cur = this.cidValue ? s.channels[this.cidValue] : undefined;
      if (cur !== last) {
        last = cur;
        fn(cur);
      }
    });
  }

  /**
   * Create the channel (for `dm`: get or create by members). With `firstMessage`, the channel
   * and its first message are made in one step (not for `dm`): the state gets the channel with
   * that message as its `last_message`. Its id is made here when not given, so a retry of the
   * same create makes neither twice.
   */
  async createChannel(
    extra: {
      name?: string;
      description?: string;
      topic?: string;
      image?: string;
      members?: string[];
      firstMessage?: { text: string; id?: string };
    } = {},
  ): Promise<ChannelState> {
    const body = {
      type: this.type,
      ...(this.idValue ? { id: this.idValue } : {}),
      members: extra.members ?? this.create?.members ?? [],
      ...((extra.name ?? this.create?.name) ? { name: extra.name ?? this.create?.name } : {}),
      ...(extra.description ? { description: extra.description } : {}),
      ...(extra.topic ? { topic: extra.topic } : {}),
      ...(extra.image ? { image: extra.image } : {}),
      ...(extra.firstMessage
        ? { first_message: { id: extra.firstMessage.id ?? uuidv7(), text: extra.firstMessage.text } }
        : {}),
    };
    const r = await this.client.http.call<CreateChannelResponse>('POST', '/v1/channels', body);
    this.idValue = r.channel.id;
    this.cidValue = r.channel.cid;
    this.client.adopt(this);
    this.client.putChannel(r.message ? { ...r.channel, last_message: r.message } : r.channel, r.members);
    return this.state as ChannelState;
  }

  /**
   * Watch: receive its events (also when not a member), load the latest messages. Watching
   * again after a reconnect replays what was missed from the last seq seen.
   */
  async watch(opts: { limit?: number } = {}): Promise<ChannelState> {
    if (!this.cidValue) await this.createChannel();
    const cid = this.cid;
    const cur = this.state;
    if (cur?.loaded) {
      await this.rewatch();
      return this.state as ChannelState;
    }
    const hellos = this.client.hellos;
    let newest = 0;
    this.client.hold(cid);
    try {
      const snapshot = await this.client.request('channel.watch', { cid });
      // Only a watch the server could not subscribe answers without the channel.
      if (!('channel' in snapshot)) throw new ParleyError('UNAVAILABLE', `Could not watch ${cid}`);
      const page = await this.client.http.call<MessagesResponse>(
        'GET',
        `/v1/channels/${cid}/messages?limit=${opts.limit ?? 50}`,
      );
      newest = page.messages.at(-1)?.seq ?? 0;
      this.client.putChannel(snapshot.channel, snapshot.members);
      this.client.updateChannel(cid, (c) => {
        const messages = freshPage(c.messages, page.messages);
        return {
          ...c,
          messages,
          // The snapshot is the base: what was applied before the hold is in it, what came
          // since is held and applied on top where newer (a channel-list answer may have moved
          // lastSeq past events the list did not carry, such as a member leaving).
          lastSeq: snapshot.channel.last_seq,
          loaded: true,
          watching: true,
          hasOlder: (page.messages[0]?.seq ?? 0) > 1 && page.messages.length >= (opts.limit ?? 50),
        };
      });
    } finally {
      this.client.release(cid);
    }
    await this.afterLoad(hellos, newest);
    return this.state as ChannelState;
  }

  /**
   * After a load, what it may have left behind. A hello while it ran: that resync passed this
   * channel by (not loaded yet), so a watched channel is watched again on the new connection from
   * its seq, and any other reads the log. A page newer than the events applied (they went with a
   * dropped connection, or are still on their way): the log between is read, so the seq, the
   * read mark it sends and the edits in between are not left short. A failure here is caught up
   * by the next hello's resync.
   */
  private async afterLoad(hellos: number, newest: number): Promise<void> {
    const reconnected = this.client.hellos !== hellos;
    if (reconnected && this.state?.watching) await this.rewatch().catch(() => {});
    else if (reconnected || newest > (this.state?.lastSeq ?? 0)) await this.client.fillGap(this.cid).catch(() => {});
  }

  /** @internal watch again from the last seq (after a reconnect). */
  async rewatch(): Promise<void> {
    const c = this.state;
    if (!c) return;
    this.client.hold(this.cid);
    let reload = false;
    try {
      // The server sends the missed events before its reply; they are held and applied in order.
      const r = await this.client.request('channel.watch', { cid: this.cid, since: c.lastSeq });
      reload = r.reload || !('channel' in r);
      if ('channel' in r && !reload) {
        const snap = r;
        // The replayed events are held until the release below, and applied on top of this
        // snapshot where they are newer. A resync answers without members (protocol 2): the
        // member events it replayed keep them current. An older server still sends the list.
        this.client.updateChannel(this.cid, (cur) => ({
          ...mergeSnapshot(cur, snap.channel, snap.members, this.client.me),
          watching: true,
        }));
      }
    } finally {
      this.client.release(this.cid);
    }
    if (reload) await this.reload();
    // Read-by is shown here: the marks that moved while away (see loadReadBy), without holding
    // up the rest of the resync.
    else if (this.state?.readByEnabled) void this.loadReadBy().catch(() => null);
  }

  /** Drop local messages and load the channel afresh (after too long away). */
  async reload(): Promise<void> {
    this.viewEpoch++;
    this.client.updateChannel(this.cid, (c) => ({
      ...c,
      loaded: false,
      messages: c.messages.filter((m) => m.status !== 'sent'),
    }));
    const watching = this.state?.watching ?? false;
    if (watching) {
      this.client.updateChannel(this.cid, (c) => ({ ...c, watching: false }));
      await this.watch();
      return;
    }
    const cid = this.cid;
    const hellos = this.client.hellos;
    let newest = 0;
    this.client.hold(cid);
    try {
      const snap = await this.client.http.call<ChannelResponse>('GET', `/v1/channels/${cid}`);
      const page = await this.client.http.call<MessagesResponse>('GET', `/v1/channels/${cid}/messages?limit=50`);
      newest = page.messages.at(-1)?.seq ?? 0;
      this.client.putChannel(snap.channel, snap.members);
      this.client.updateChannel(cid, (c) => {
        const messages = freshPage(c.messages, page.messages);
        return { ...c, messages, lastSeq: snap.channel.last_seq, loaded: true, hasOlder: page.messages.length >= 50 };
      });
    } finally {
      this.client.release(cid);
    }
    await this.afterLoad(hellos, newest);
  }

  /**
   * One page of the members, ordered by user id (`cursor`: the `next` of the page before),
   * merged into the channel's state. A resync no longer carries the member list: load it when
   * it is shown.
   */
  async loadMembers(
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ members: Member[]; next: string | null }> {
    // The page is at least as new as every event applied before it was asked for.
    const asked = this.state?.lastSeq ?? 0;
    const r = await this.client.request('channel.members', {
      cid: this.cid,
      ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    });
    this.client.updateChannel(this.cid, (c) => mergeMemberPage(c, r.members, asked));
    return r;
  }

  /**
   * Say whether this channel is the one in front of the user now (shown, its window focused and
   * visible): others see you among its viewers (`client.viewers`). One channel is viewed at a
   * time per client; `false` clears the view only if it is this channel's.
   */
  setViewing(viewing: boolean): void {
    const viewers = this.client.viewers;
    if (!viewers) return;
    if (viewing) viewers.view(this.cid);
    else if (viewers.viewing === this.cid) viewers.view(null);
  }

  async stopWatching(): Promise<void> {
    await this.client.request('channel.unwatch', { cid: this.cid });
    this.client.updateChannel(this.cid, (c) => ({ ...c, watching: false }));
  }

  /** Load older messages before the first one held; returns how many arrived. */
  async loadOlder(limit = 50): Promise<number> {
    const first = this.state?.messages.find((m) => m.seq > 0);
    return this.page(first ? `before=${first.seq}&limit=${limit}` : `limit=${limit}`, 'hasOlder', limit);
  }

  /**
   * A page of the view (`query`) merged in, events held meanwhile; `more` says whether it was
   * full (more exist that way). Nothing when the view was replaced while it loaded. Returns how
   * many messages it brought.
   */
  private async page(query: string, more: 'hasOlder' | 'hasNewer', limit: number): Promise<number> {
    const epoch = this.viewEpoch;
    let n = 0;
    await this.held(
      () => this.client.http.call<MessagesResponse>('GET', `/v1/channels/${this.cid}/messages?${query}`),
      (page) => {
        if (epoch !== this.viewEpoch) return;
        n = page.messages.length;
        this.client.updateChannel(this.cid, (c) => ({
          ...c,
          messages: mergeMessages(c.messages, sentAll(page.messages), true),
          [more]: page.messages.length >= limit,
        }));
      },
    );
    return n;
  }

  /**
   * Show a window of history with `messageId` in the middle (a search hit, a link to a
   * message), replacing what is loaded; page on with `loadOlder` and `loadNewer`. While newer
   * messages exist beyond the window (`hasNewer`), live ones are not added to the view.
   */
  async loadAround(messageId: string, limit = 50): Promise<void> {
    const epoch = ++this.viewEpoch;
    await this.held(
      () =>
        this.client.http.call<MessagesResponse>(
          'GET',
          `/v1/channels/${this.cid}/messages?around=${encodeURIComponent(messageId)}&limit=${limit}`,
        ),
      (page) => {
        if (epoch !== this.viewEpoch) return;
        this.client.updateChannel(this.cid, (c) => {
          const messages = freshPage(c.messages, page.messages);
          const last = page.messages.at(-1)?.seq ?? 0;
          const hasNewer = last < c.lastSeq && page.messages.length >= limit - Math.floor((limit - 1) / 2);
          return { ...c, messages, loaded: true, hasOlder: (page.messages[0]?.seq ?? 0) > 1, hasNewer };
        });
      },
    );
  }

  /** Load messages after the last one held (after `loadAround`); returns how many arrived. */
  async loadNewer(limit = 50): Promise<number> {
    const last = this.state?.messages.filter((m) => m.seq > 0).at(-1);
    return last ? this.page(`after=${last.seq}&limit=${limit}`, 'hasNewer', limit) : 0;
  }

  /** Leave a window of older history: load the latest messages again. */
  async jumpToLatest(): Promise<void> {
    if (!this.state?.hasNewer) return;
    this.client.updateChannel(this.cid, (c) => ({ ...c, hasNewer: false }));
    await this.reload();
  }

  /**
   * Send a message. It shows at once as `sending`, becomes `sent` with its seq when the server
   * stores it, or `failed` (then `retry(id)` sends it again with the same id). Offline, it waits
   * in the outbox — which survives a restart — and goes out in order on reconnect.
   */
  sendMessage(msg: SendOptions): Promise<LocalMessage> {
    const entry = {
      cid: this.cid,
      message: {
        id: msg.id ?? uuidv7(),
        text: msg.text,
        ...(msg.parent_id ? { parent_id: msg.parent_id } : {}),
        ...(msg.quoted_message_id ? { quoted_message_id: msg.quoted_message_id } : {}),
        ...(msg.show_in_channel ? { show_in_channel: true } : {}),
        ...(msg.poll ? { poll: msg.poll } : {}),
      },
      created_at: new Date().toISOString(),
    };
    this.stopTyping(msg.parent_id ?? null);
    if (msg.attachments?.length) {
      if (Uploads.needsUpload(msg.attachments)) return this.uploads.send(entry, msg.attachments, msg.onProgress);
      (entry.message as { attachments?: string[] }).attachments = msg.attachments.map((a) => (a as { id: string }).id);
    }
    const local = pendingMessage(entry, this.client.me);
    return this.client.enqueue(entry, local);
  }

  /** Cancel a send whose files are still uploading: the message goes, uploaded files are deleted. */
  cancelSend(messageId: string): boolean {
    return this.uploads.cancel(messageId);
  }

  /** Send a failed message again, with the same id (so it can never be stored twice). */
  retry(messageId: string): Promise<LocalMessage> {
    const m = this.client.findLocal(this.cid, messageId);
    if (!m || m.status === 'sent')
      return Promise.reject(new ParleyError('NOT_FOUND', 'No unsent message with that id', { retryable: false }));
    const again = this.uploadsValue?.retry(messageId);
    if (again) return again;
    return this.sendMessage({
      id: m.id,
      text: m.text,
      parent_id: m.parent_id,
      quoted_message_id: m.quoted_message_id,
      show_in_channel: m.show_in_channel,
    });
  }

  /** Edit your message (shown at once; rolled back if the server refuses). */
  async updateMessage(id: string, text: string): Promise<Message> {
    const before = this.client.findLocal(this.cid, id);
    if (before) this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, { ...before, text }, true));
    // The object now in state: still there (by identity) at rollback time means nothing replaced it.
    const optimistic = before ? this.client.findLocal(this.cid, id) : undefined;
    try {
      const { message: m } = await this.client.request('message.update', { message: { id, text } });
      this.takeAnswer(m, optimistic);
      return m;
    } catch (e) {
      // Roll back only if our edit is still what is shown: an event that replaced it meanwhile
      // (say message.deleted) is newer than `before`, and restoring `before` would undo it.
      if (before && this.client.findLocal(this.cid, id) === optimistic)
        this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, before, false));
      throw e;
    }
  }

  /**
   * Remove the link preview of `url` (a preview's `url`) from your message: gone from state at
   * once, back if the server refuses. It does not come back, even after an edit.
   */
  async removePreview(messageId: string, url: string): Promise<Message> {
    const before = this.client.findLocal(this.cid, messageId);
    if (before?.previews)
      this.client.updateChannel(this.cid, (c) =>
        replaceEverywhere(c, { ...before, previews: (before.previews ?? []).filter((p) => p.url !== url) }, false),
      );
    const optimistic = before ? this.client.findLocal(this.cid, messageId) : undefined;
    try {
      const { message: m } = await this.client.request('preview.remove', { message_id: messageId, url });
      // An event that replaced the message meanwhile is as new as this answer or newer (and the
      // removal's own message.updated follows in seq order), so only our own optimistic copy is
      // replaced here.
      if (this.client.findLocal(this.cid, messageId) === optimistic)
        this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, m, false));
      return m;
    } catch (e) {
      if (before && this.client.findLocal(this.cid, messageId) === optimistic)
        this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, before, false));
      throw e;
    }
  }

  async deleteMessage(id: string): Promise<Message> {
    const before = this.client.findLocal(this.cid, id);
    const { message: m } = await this.client.request('message.delete', { message_id: id });
    this.takeAnswer(m, before);
    return m;
  }

  /**
   * An action's answer (the message as the server left it) replaces the copy held, unless an
   * event replaced that copy while the answer was on its way: the event may be newer than the
   * answer (another member's reaction, a deletion), and the action's own event, which follows
   * in seq order, brings what the answer would have. `asked`: the copy held when it was sent
   * (after any optimistic change); undefined when none was held.
   */
  private takeAnswer(m: Message, asked: LocalMessage | undefined): void {
    const cur = this.client.findLocal(this.cid, m.id);
    if (cur && cur !== asked) return;
    this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, m, false));
  }

  /** React (shown at once; rolled back on failure). */
  async sendReaction(messageId: string, type: string): Promise<Message> {
    return this.toggleReaction(messageId, type, true);
  }

  async deleteReaction(messageId: string, type: string): Promise<Message> {
    return this.toggleReaction(messageId, type, false);
  }

  private async toggleReaction(messageId: string, type: string, add: boolean): Promise<Message> {
    const before = this.client.findLocal(this.cid, messageId);
    let optimistic: LocalMessage | null = null;
    if (before && before.own_reactions.includes(type) !== add) {
      const counts = { ...before.reactions };
      counts[type] = (counts[type] ?? 0) + (add ? 1 : -1);
      if ((counts[type] ?? 0) <= 0) delete counts[type];
      const own = add ? [...before.own_reactions, type] : before.own_reactions.filter((t) => t !== type);
      this.client.updateChannel(this.cid, (c) =>
        replaceEverywhere(c, { ...before, reactions: counts, own_reactions: own }, false),
      );
      // The object now in state: still there (by identity) at rollback time means nothing replaced it.
      optimistic = this.client.findLocal(this.cid, messageId) ?? null;
    }
    try {
      const r = add
        ? await this.client.request('reaction.add', { message_id: messageId, reaction: { type } })
        : await this.client.request('reaction.remove', { message_id: messageId, reaction: { type } });
      const m = r.message;
      this.takeAnswer(m, optimistic ?? before);
      return m;
    } catch (e) {
      // Roll back our own change only. If an event replaced the message meanwhile (say
      // message.deleted), it is newer than `before`: restoring `before` would resurrect the
      // message, so keep the event's version and only undo the own_reactions toggle on it.
      const cur = this.client.findLocal(this.cid, messageId);
      if (before && optimistic && cur === optimistic) {
        this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, before, false));
      } else if (before && optimistic && cur && cur.type !== 'deleted') {
        const had = before.own_reactions.includes(type);
        const own = had ? [...new Set([...cur.own_reactions, type])] : cur.own_reactions.filter((t) => t !== type);
        this.client.updateChannel(this.cid, (c) => replaceEverywhere(c, { ...cur, own_reactions: own }, false));
      }
      throw e;
    }
  }

  /**
   * Vote in a poll: `optionIds` is your whole choice (it replaces an earlier one); an empty list
   * takes your vote back. The tallies arrive for everyone as `poll.updated`; your own votes are
   * set from the answer. A closed poll refuses with POLL_CLOSED.
   */
  async votePoll(messageId: string, optionIds: string[]): Promise<Poll> {
    const r: PollResponse = optionIds.length
      ? await this.client.request('poll.vote', { message_id: messageId, option_ids: optionIds })
      : await this.client.request('poll.unvote', { message_id: messageId });
    this.ownVotes(messageId, r.poll);
    return r.poll;
  }

  /**
   * Take an answer's own votes. Its tallies are taken only if this client holds none: the
   * channel's `poll.updated` events, in seq order, are what move them (an answer may arrive after
   * a newer event).
   */
  private ownVotes(messageId: string, poll: Poll): void {
    this.client.updateChannel(this.cid, (c) => {
      const cur = this.client.findLocal(this.cid, messageId)?.poll;
      return setPoll(c, messageId, cur ? { ...cur, closed_at: cur.closed_at ?? poll.closed_at } : poll, poll.own_votes);
    });
  }

  /** Close a poll (its author or a moderator); its results stay. */
  async closePoll(messageId: string): Promise<Poll> {
    const r: PollResponse = await this.client.request('poll.close', { message_id: messageId });
    this.ownVotes(messageId, r.poll);
    return r.poll;
  }

  /**
   * Catch up: the app's assistant summarises what you have not read here (from your read mark,
   * or the range given), citing the messages it drew on. Yields `start`, the summary's `delta`s
   * as the model writes them, then `done` with the whole summary and its citations; throws a
   * ParleyError when it fails (ASSISTANT_OFF, ASSISTANT_UNAVAILABLE …). Stop it with `signal`.
   */
  catchUp(opts: CatchUpOptions = {}): AsyncGenerator<CatchUpProgress> {
    return catchUpStream(this.client.http, `/v1/channels/${encodeURIComponent(this.cid)}/catch-up`, opts);
  }

  /**
   * Mark everything up to the latest seq read. The mark shows at once; one the server did not
   * take (offline, the socket dropped, a node going away) is kept (`unsentRead`, persisted with
   * the channel) and sent again after the next hello, so the server's counts and your other
   * devices come to agree with this one.
   */
  async markRead(): Promise<void> {
    const c = this.state;
    if (!c?.channel.membership) return;
    await this.sendMark(c.lastSeq);
  }

  /** @internal send the mark kept by a failed `markRead` again (the client, after a hello). */
  async resendRead(): Promise<void> {
    const c = this.state;
    const unsent = c?.unsentRead;
    if (!c || !unsent) return;
    const now = c.readRevs?.[this.client.me];
    if (unsent.rev !== undefined && now !== undefined && now > unsent.rev) {
      // Your mark moved on the server since (a read or mark unread on another device, or this
      // one's request did land): that is the later word, and the state already holds it. Its
      // counts may not: a push applied before the resync's snapshot brought the server's mark
      // was settled against this device's (all read here), and a snapshot at the same seq does
      // not replace pushed counts. So they are read again, as the server has them.
      this.client.updateChannel(this.cid, ({ unsentRead: _, unreadRev: _r, ...cur }) => cur);
      await this.recount();
      return;
    }
    await this.sendMark(unsent.seq);
  }

  private async sendMark(seq: number): Promise<void> {
    const rev = this.state?.readRevs?.[this.client.me];
    this.client.updateChannel(this.cid, (cur) =>
      cur.channel.membership
        ? settleCounts({
            ...cur,
            channel: {
              ...cur.channel,
              membership: {
                ...cur.channel.membership,
                last_read_seq: Math.max(cur.channel.membership.last_read_seq, seq),
              },
            },
          })
        : cur,
    );
    const r = await this.client.request('read.mark', { cid: this.cid, seq }).catch((e: ParleyError) => {
      // Whether it reached the server is not known: a mark only moves forward, so it goes again.
      if (e.retryable)
        this.client.updateChannel(this.cid, (cur) => {
          // The first unsent mark's revision stays: a move on the server since then is newer.
          const since = cur.unsentRead ? cur.unsentRead.rev : rev;
          const kept = { seq: Math.max(cur.unsentRead?.seq ?? 0, seq), ...(since !== undefined ? { rev: since } : {}) };
          return { ...cur, unsentRead: kept };
        });
      throw e;
    });
    // The answer's counts may be older than a message applied since (they are not taken): the
    // mark only moves forward, and what it covers is no longer unread.
    this.client.updateChannel(this.cid, (cur) => {
      const m = cur.channel.membership;
      if (!m) return cur;
      // Forward only, unless a newer revision says the mark went back since (marked unread on
      // another device after this read).
      const me = this.client.me;
      const mark = newerRead(m.last_read_seq, cur.readRevs?.[me], r.last_read_seq, r.read_rev);
      const { unsentRead, ...next } = withRead(cur, me, mark.seq, mark.rev);
      const left = unsentRead !== undefined && unsentRead.seq > seq ? { unsentRead } : {};
      return settleCounts({
        ...next,
        ...left,
        channel: { ...cur.channel, membership: { ...m, last_read_seq: mark.seq } },
      });
    });
  }

  /**
   * Ask the server who read `messageId` (default: your latest message here) and when; keeps
   * whether read-by is on in this channel (`readByEnabled`) and the readers' times in the
   * state, which `read.updated` events keep live from then on (`readByOf`).
   */
  async loadReadBy(messageId?: string): Promise<ReadByResponse | null> {
    const c = this.state;
    const id = messageId ?? (c ? readByOf(c, this.client.me)?.message.id : undefined);
    if (!id) return null;
    const r = await this.client.http.call<ReadByResponse>('GET', `/v1/messages/${id}/read-by`);
    this.client.updateChannel(this.cid, (cur) => {
      const readAt = { ...cur.readAt };
      for (const e of r.read_by) if (e.read_at || readAt[e.user_id] === undefined) readAt[e.user_id] = e.read_at;
      return { ...cur, readByEnabled: r.enabled, readAt };
    });
    // The others' read marks move no seq, so neither a resync's replay nor the state restored
    // from storage brings the ones that moved meanwhile (a read, a mark unread, receipts
    // hidden): where read-by is shown, the members are read again, one page (the channel is
    // within read-by's member limit), their marks taken by revision.
    if (r.enabled) await this.loadMembers({ limit: Math.min(500, Math.max(1, r.max_members)) });
    return r;
  }

  /** Mark unread from a message on. */
  async markUnread(messageId: string): Promise<void> {
    const asked = this.state?.lastSeq ?? 0;
    const r = await this.client.http.call<ReadStateResponse>('POST', `/v1/channels/${this.cid}/unread`, {
      message_id: messageId,
    });
    const last = r.last_read_seq;
    let moved = false;
    this.client.updateChannel(this.cid, (cur) => {
      if (!cur.channel.membership) return cur;
      // An event or snapshot with a newer revision already applied (a read after this on
      // another device) wins over this answer.
      const rev = cur.readRevs?.[this.client.me];
      if (r.read_rev !== undefined && rev !== undefined && r.read_rev < rev) return cur;
      const marked = {
        ...cur,
        channel: { ...cur.channel, membership: { ...cur.channel.membership, last_read_seq: last } },
        read: { ...cur.read, [this.client.me]: last },
        ...(r.read_rev !== undefined ? { readRevs: { ...cur.readRevs, [this.client.me]: r.read_rev } } : {}),
      };
      // Counts pushed with a newer revision were read after these: they stay.
      const pushed = cur.unreadRev;
      if (pushed !== undefined && r.read_rev !== undefined && r.read_rev < pushed) return marked;
      // The answer's counts hold every message up to `last_seq` (older servers: where the
      // channel stood when it was asked for), whether or not the client has applied them yet;
      // what the client counted past it is added (`countsFrom`) or, not all known (or a
      // message applied past it on an older server), the counts are asked for again.
      const at = r.last_seq ?? asked;
      const pushedRev = pushed !== undefined && r.read_rev !== undefined ? { unreadRev: r.read_rev } : {};
      const counts = r.last_seq === undefined ? null : countsFrom(cur, at, last, r.unread_count, r.mention_count);
      if (counts) return { ...marked, ...counts, countsSeq: Math.max(countsSeqOf(cur), at), ...pushedRev };
      moved = cur.lastSeq > at;
      return {
        ...marked,
        unreadCount: r.unread_count,
        mentionCount: r.mention_count,
        countsSeq: at,
        countDeltas: undefined,
        ...pushedRev,
      };
    });
    if (moved) await this.recount();
  }

  /** Read this channel's counts again, as the server has them now; a failure leaves them to the next read, push or reconnect. */
  private async recount(): Promise<void> {
    const q = await this.client.http
      .call<QueryChannelsResponse>('POST', '/v1/channels/query', { filter: { cid: this.cid } })
      .catch(() => null);
    for (const c of q?.channels ?? []) this.client.putChannel(c);
  }

  /** Call on every keystroke: sends typing.start at most every 2 s and typing.stop after 3 s idle. */
  keystroke(parentId: string | null = null): void {
    const key = parentId ?? '';
    const now = Date.now();
    if (now - (this.typingSent.get(key) ?? 0) > TYPING_THROTTLE_MS) {
      this.typingSent.set(key, now);
      this.client.request('typing.start', { cid: this.cid, parent_id: parentId }).catch(() => {});
    }
    const idle = this.typingIdle.get(key);
    if (idle) clearTimeout(idle);
    this.typingIdle.set(
      key,
      setTimeout(() => this.stopTyping(parentId), TYPING_IDLE_MS),
    );
  }

  /** Say you stopped typing (sending a message does this too). */
  stopTyping(parentId: string | null = null): void {
    const key = parentId ?? '';
    const idle = this.typingIdle.get(key);
    if (idle) clearTimeout(idle);
    this.typingIdle.delete(key);
    if (!this.typingSent.has(key)) return;
    this.typingSent.delete(key);
    this.client.request('typing.stop', { cid: this.cid, parent_id: parentId }).catch(() => {});
  }

  /**
   * Fetch a page with the channel's events held, and merge it before they are applied: an edit,
   * reaction or deletion that lands while the page is on its way is not undone by the page's
   * older copy, and one about a message the page brings into view is not lost.
   */
  private async held<T>(fetch: () => Promise<T>, merge: (page: T) => void): Promise<void> {
    this.client.hold(this.cid);
    try {
      merge(await fetch());
    } finally {
      this.client.release(this.cid);
    }
  }

  /** Load a thread's replies (and keep the thread live in state from then on). */
  async getReplies(parentId: string, opts: { before?: number; limit?: number } = {}): Promise<LocalMessage[]> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 50) });
    if (opts.before !== undefined) q.set('before', String(opts.before));
    // The channel's events are held while the page is on its way and applied on top of it: a
    // reply that lands meanwhile joins the thread, and an edit, reaction or deletion of a reply
    // is not undone by the page's older copy.
    const cid = this.cid;
    this.client.hold(cid);
    try {
      const r = await this.client.http.call<MessagesResponse>('GET', `/v1/messages/${parentId}/replies?${q}`);
      this.client.updateChannel(cid, (c) => {
        const list = mergeMessages(c.threads[parentId] ?? [], sentAll(r.messages));
        return { ...c, threads: { ...c.threads, [parentId]: list } };
      });
    } finally {
      this.client.release(cid);
    }
    return (this.state?.threads[parentId] ?? []) as LocalMessage[];
  }

  async pin(messageId: string): Promise<Message> {
    const before = this.client.findLocal(this.cid, messageId);
    const r = await this.client.http.call<MessageResponse>('POST', `/v1/messages/${messageId}/pin`);
    this.takeAnswer(r.message, before);
    return r.message;
  }

  async unpin(messageId: string): Promise<Message> {
    const before = this.client.findLocal(this.cid, messageId);
    const r = await this.client.http.call<MessageResponse>('DELETE', `/v1/messages/${messageId}/pin`);
    this.takeAnswer(r.message, before);
    return r.message;
  }

  async getPinned(): Promise<Message[]> {
    return (await this.client.http.call<MessagesResponse>('GET', `/v1/channels/${this.cid}/pinned`)).messages;
  }

  /**
   * Update name, description, topic, image or archived; or the moderation settings (frozen,
   * slow_mode_s, reactions: capability `freeze-channel`).
   */
  async update(fields: {
    name?: string | null;
    description?: string | null;
    topic?: string | null;
    image?: string | null;
    archived?: boolean;
    frozen?: boolean;
    slow_mode_s?: number;
    reactions?: 'members' | 'open';
  }) {
    const r = await this.client.http.call<ChannelResponse>('PATCH', `/v1/channels/${this.cid}`, fields);
    this.client.putChannel(r.channel, r.members);
    return r.channel;
  }

  async addMembers(userIds: string[]): Promise<void> {
    const r = await this.client.http.call<ChannelResponse>('POST', `/v1/channels/${this.cid}/members`, {
      add: userIds,
    });
    this.client.putChannel(r.channel, r.members);
  }

  async removeMembers(userIds: string[]): Promise<void> {
    const r = await this.client.http.call<ChannelResponse>('POST', `/v1/channels/${this.cid}/members`, {
      remove: userIds,
    });
    this.client.putChannel(r.channel, r.members);
  }

  /** Join a public channel. */
  async join(): Promise<void> {
    const r = await this.client.http.call<ChannelResponse>('POST', `/v1/channels/${this.cid}/join`);
    this.client.putChannel(r.channel, r.members);
  }

  /** Mute (or unmute) this channel for yourself: no pushes, and it leaves your unread totals. */
  async setMuted(muted: boolean): Promise<void> {
    await this.client.http.call<MemberResponse>(
      'PATCH',
      `/v1/channels/${this.cid}/members/${encodeURIComponent(this.client.me)}`,
      { muted },
    );
    this.client.updateChannel(this.cid, (c) => withMuted(c, this.client.me, muted));
  }

  /** Your notification level for this channel; `default` follows your own (see `Client.notificationSettings`). */
  async setNotificationLevel(level: ChannelNotifyLevel): Promise<ChannelNotifyLevel> {
    const r = await this.client.http.call<{ cid: string; level: ChannelNotifyLevel }>(
      'PUT',
      `/v1/channels/${this.cid}/notifications`,
      { level },
    );
    return r.level;
  }

  async leave(): Promise<void> {
    await this.client.http.call('POST', `/v1/channels/${this.cid}/leave`);
    this.client.updateChannel(this.cid, (c) => ({ ...c, channel: { ...c.channel, membership: null } }));
  }
}

/**
 * The client's state converges on the server's whatever order answers and live events reach it
 * (issue 54). A small reference server (below) holds one group channel: messages with their
 * seqs, thread replies, reactions, pins, members and their read marks, the channel's name. The
 * SDK's own `Channel` and `Ingest` run against it through a host whose requests are answered
 * when the test says: each request is *served* (its answer computed from the server as it is
 * then) and later *delivered*, and live events are delivered in publish order in between — so
 * a snapshot may reach the client after events newer than it, as on a real network.
 *
 * fast-check draws the interleavings: other members send, reply, delete, react, pin, rename,
 * join, leave and read; this user opens the channel, marks it read, reacts, pins and reads on
 * another device; snapshots (the channel list, the watch, its first page, read answers) are
 * served and delivered in any order. After everything in flight has landed, the state must
 * equal the server's: unread and mention counts, read marks, members, the channel's fields,
 * and (once loaded) every message with its reactions, pin and reply count.
 */
import type { ChannelEvent, Member, Message, Reaction, ServerEvent, Channel as WireChannel } from '@parley/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Channel } from '../src/channel.js';
import type { ChannelHost } from '../src/host.js';
import type { Http } from '../src/http.js';
import { Ingest } from '../src/ingest.js';
import {
  applyUnread,
  type ClientState,
  forgetUnreadRevs,
  initialState,
  putChannelIn,
  updateChannelIn,
} from '../src/state.js';
import { Store } from '../src/store.js';

const ME = 'me';
const CID = 'group:g';
const AT = '2026-11-27T10:00:00.000Z';
const OTHERS = ['u1', 'u2', 'u3'] as const;
const TYPES = ['like', 'heart'] as const;

// ---- the reference server ---------------------------------------------------------------

interface ServerMessage {
  id: string;
  seq: number;
  user_id: string;
  parent_id: string | null;
  mentions: string[];
  deleted: boolean;
  /** Who reacted with what (type → users). */
  reactions: Map<string, Set<string>>;
  pinned: boolean;
  replies: number;
}

class Server {
  seq = 0;
  name = 'g';
  members = new Map<string, number>([
    [ME, 0],
    ['u1', 0],
    ['u2', 0],
  ]);
  /** Each member's read-mark revision (`read_rev`): a new one from `rev` each time a mark moves. */
  revs = new Map<string, number>([
    [ME, 1],
    ['u1', 2],
    ['u2', 3],
  ]);
  private rev = 3;
  messages: ServerMessage[] = [];
  /** Frames published to this user's socket, in order; `deliver` takes the first. */
  outbox: ServerEvent[] = [];
  /** The channel's event log, as `GET /v1/channels/{cid}/events` reads it. */
  log: ChannelEvent[] = [];
  private nextId = 1;

  private event(e: Omit<ChannelEvent, 'seq' | 'cid' | 'created_at'>): void {
    this.seq += 1;
    const logged = { ...e, cid: CID, seq: this.seq, created_at: AT } as ChannelEvent;
    this.log.push(logged);
    this.outbox.push(logged);
  }

  wire(m: ServerMessage, viewer: string | null): Message {
    const reactions: Record<string, number> = {};
    const latest: Reaction[] = [];
    for (const [type, users] of m.reactions) {
      if (users.size) reactions[type] = users.size;
      for (const u of users) latest.push({ type, user_id: u, created_at: AT });
    }
    return {
      id: m.id,
      cid: CID,
      seq: m.seq,
      user_id: m.user_id,
      type: m.deleted ? 'deleted' : 'regular',
      text: m.deleted ? '' : `text ${m.id}`,
      parent_id: m.parent_id,
      show_in_channel: false,
      reply_count: m.replies,
      last_reply_at: null,
      thread_participants: [],
      quoted_message_id: null,
      reactions: m.deleted ? {} : reactions,
      own_reactions: viewer && !m.deleted ? [...m.reactions].filter(([, us]) => us.has(viewer)).map(([t]) => t) : [],
      latest_reactions: m.deleted ? [] : latest,
      mentioned_users: m.mentions,
      mentioned_here: false,
      mentioned_channel: false,
      pinned: m.pinned,
      pinned_at: m.pinned ? AT : null,
      pinned_by: m.pinned ? ME : null,
      edited_at: null,
      created_at: AT,
      updated_at: AT,
      deleted_at: m.deleted ? AT : null,
    };
  }

  private member(id: string): Member {
    return {
      user_id: id,
      role: 'member',
      last_read_seq: this.members.get(id) ?? 0,
      read_rev: this.revs.get(id) ?? 0,
      muted: false,
      joined_at: AT,
    };
  }

  /** ME's counts as last pushed (`pushCounts`). */
  private pushed = '0|0|0';

  /**
   * What the server does after each change that moves ME's counts (features/reads/push.ts):
   * push them (`unread.updated`), read after the change, with a revision from the read marks'
   * sequence. Pushes are how the client's counts end exact where its own counting cannot know
   * (a message deleted before the channel was opened, whose tombstone says nothing of mentions).
   */
  pushCounts(): void {
    if (!this.members.has(ME)) return;
    const { unread, mentions } = this.counts();
    const key = `${unread}|${mentions}|${this.members.get(ME)}`;
    if (key === this.pushed) return;
    this.pushed = key;
    this.outbox.push({
      type: 'unread.updated',
      cid: CID,
      unread_count: unread,
      mention_count: mentions,
      last_seq: this.seq,
      total: unread,
      mentions,
      channels: unread > 0 ? 1 : 0,
      rev: ++this.rev,
      created_at: AT,
    } as ServerEvent);
  }

  /** What is unread for `ME`: others' live messages in the channel view, past the read mark. */
  counts(): { unread: number; mentions: number } {
    const mark = this.members.get(ME) ?? 0;
    const unread = this.messages.filter((m) => !m.deleted && !m.parent_id && m.user_id !== ME && m.seq > mark);
    return { unread: unread.length, mentions: unread.filter((m) => m.mentions.includes(ME)).length };
  }

  channel(): WireChannel {
    const { unread, mentions } = this.counts();
    return {
      cid: CID,
      type: 'group',
      id: 'g',
      name: this.name,
      description: null,
      topic: null,
      image: null,
      created_by: ME,
      archived: false,
      archived_at: null,
      last_seq: this.seq,
      last_message_at: null,
      member_count: this.members.size,
      created_at: AT,
      updated_at: AT,
      unread_count: unread,
      mention_count: mentions,
      membership: {
        role: 'member',
        last_read_seq: this.members.get(ME) ?? 0,
        read_rev: this.revs.get(ME) ?? 0,
        muted: false,
        joined_at: AT,
      },
    };
  }

  memberList(): Member[] {
    return [...this.members.keys()].sort().map((id) => this.member(id));
  }

  view(): Message[] {
    return this.messages.filter((m) => !m.parent_id).map((m) => this.wire(m, ME));
  }

  replies(parentId: string): Message[] {
    return this.messages.filter((m) => m.parent_id === parentId).map((m) => this.wire(m, ME));
  }

  // -- what members do --

  send(user: string, mention: boolean, replyTo: number | null): void {
    const parent = replyTo === null ? undefined : this.messages.filter((m) => !m.parent_id)[replyTo];
    if (replyTo !== null && (!parent || parent.deleted)) return;
    const m: ServerMessage = {
      id: `m${this.nextId++}`,
      seq: this.seq + 1,
      user_id: user,
      parent_id: parent?.id ?? null,
      mentions: mention ? [ME] : [],
      deleted: false,
      reactions: new Map(),
      pinned: false,
      replies: 0,
    };
    this.messages.push(m);
    if (parent) parent.replies += 1;
    this.event({
      type: 'message.new',
      message: this.wire(m, null),
      ...(parent ? { parent: this.wire(parent, null) } : {}),
    } as never);
  }

  pick(i: number): ServerMessage | undefined {
    const live = this.messages.filter((m) => !m.deleted);
    return live.length ? live[i % live.length] : undefined;
  }

  delete(i: number): void {
    const m = this.pick(i);
    if (!m) return;
    // As the server does: a deleted message keeps no mentions, reactions or pin.
    m.deleted = true;
    m.reactions = new Map();
    m.mentions = [];
    m.pinned = false;
    const parent = m.parent_id ? this.messages.find((p) => p.id === m.parent_id) : undefined;
    if (parent) parent.replies = Math.max(0, parent.replies - 1);
    this.event({
      type: 'message.deleted',
      message: this.wire(m, null),
      ...(parent ? { parent: this.wire(parent, null) } : {}),
    } as never);
  }

  /** Toggle `user`'s reaction; returns the message as the actor's answer shows it. */
  react(user: string, i: number, type: string, add?: boolean): Message | null {
    const m = this.pick(i);
    if (!m || !this.members.has(user)) return null;
    const users = m.reactions.get(type) ?? new Set<string>();
    const adding = add ?? !users.has(user);
    if (adding === users.has(user)) return this.wire(m, user);
    if (adding) users.add(user);
    else users.delete(user);
    m.reactions.set(type, users);
    this.event({
      type: adding ? 'reaction.new' : 'reaction.deleted',
      message: this.wire(m, null),
      reaction: { type, user_id: user, created_at: AT },
    } as never);
    return this.wire(m, user);
  }

  pin(i: number, on?: boolean): Message | null {
    const m = this.pick(i);
    if (!m) return null;
    const to = on ?? !m.pinned;
    if (m.pinned !== to) {
      m.pinned = to;
      this.event({ type: 'message.updated', message: this.wire(m, null) } as never);
    }
    return this.wire(m, ME);
  }

  rename(n: number): void {
    this.name = `g${n}`;
    this.event({ type: 'channel.updated', channel: this.channel() } as never);
  }

  /**
   * A join (or a rejoin after leaving) sets the member's read mark to the channel's last seq,
   * as the server does, with a new revision: a `read.updated` or a snapshot from before it, in
   * flight, is older by its revision and cannot undo it.
   */
  /** Who joined during the run: a channel never opened may skip their member.added (below). */
  joined = new Set<string>();

  join(user: string): void {
    if (this.members.has(user)) return;
    this.joined.add(user);
    this.members.set(user, this.seq);
    this.revs.set(user, ++this.rev);
    this.event({ type: 'member.added', member: this.member(user), channel: this.channel() } as never);
  }

  leave(user: string): void {
    if (!this.members.has(user) || user === ME) return;
    this.members.delete(user);
    this.event({ type: 'member.removed', user_id: user, channel: this.channel() } as never);
  }

  /** `user` reads up to `seq` (default: the latest); `read.updated` goes to the members. */
  read(user: string, seq = this.seq): number {
    if (!this.members.has(user)) return 0;
    const mark = Math.max(this.members.get(user) ?? 0, Math.min(seq, this.seq));
    if (mark === this.members.get(user)) return mark; // nothing moved: no event, no revision
    this.members.set(user, mark);
    this.readUpdated(user, mark);
    return mark;
  }

  /** `user` marks unread from the top-level message `i` on: the mark moves back to just before it. */
  unread(user: string, i: number): number | null {
    const m = this.pick(i);
    if (!m || m.parent_id || !this.members.has(user)) return null;
    this.members.set(user, m.seq - 1);
    this.readUpdated(user, m.seq - 1);
    return m.seq - 1;
  }

  /** The answer of a read or unread call of `ME` that left the mark at `last`. */
  readState(last: number) {
    const { unread, mentions } = this.counts();
    return {
      cid: CID,
      last_read_seq: last,
      read_rev: this.revs.get(ME),
      unread_count: unread,
      mention_count: mentions,
      last_seq: this.seq,
    };
  }

  private readUpdated(user: string, mark: number): void {
    this.revs.set(user, ++this.rev);
    this.outbox.push({
      type: 'read.updated',
      cid: CID,
      user: { id: user, name: user, username: null, image: null, role: 'user', created_at: AT, updated_at: AT },
      seq: mark,
      read_rev: this.rev,
      created_at: AT,
    } as ServerEvent);
  }
}

// ---- the client under test, on a host whose answers the test delivers ----------------------

interface Pending {
  what: string;
  serve: () => unknown;
  answer?: { ok: unknown } | { err: unknown };
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

function harness(server: Server) {
  let hellos = 0;
  const state = new Store<ClientState>({ ...initialState, user: { id: ME, name: ME } as ClientState['user'] });
  const pending: Pending[] = [];
  const ask = (what: string, serve: () => unknown) =>
    new Promise<never>((resolve, reject) =>
      pending.push({ what, serve, resolve: resolve as (v: unknown) => void, reject }),
    );

  const http = {
    call: (method: string, path: string, body?: unknown) => {
      if (method === 'GET' && path.startsWith(`/v1/channels/${CID}/messages`))
        return ask('page', () => ({ messages: server.view() }));
      if (method === 'GET' && path === `/v1/channels/${CID}`)
        return ask('get', () => ({ channel: server.channel(), members: server.memberList() }));
      if (method === 'POST' && path === '/v1/channels/query')
        return ask('query', () => ({ channels: [server.channel()] }));
      if (method === 'GET' && path.startsWith(`/v1/channels/${CID}/events`)) {
        // A gap fill: events delivered in order open none, but a page newer than the events
        // applied (or an event lost with its connection) has the client read the log.
        const after = Number(new URL(path, 'http://x').searchParams.get('after'));
        return ask('events', () => ({
          events: server.log.filter((e) => e.seq > after),
          last_seq: server.seq,
          reload: false,
          has_more: false,
          read_to: server.seq,
        }));
      }
      if (method === 'GET' && path.startsWith('/v1/messages/') && path.includes('/replies')) {
        const id = path.split('/')[3];
        return ask('replies', () => ({ messages: server.replies(id as string) }));
      }
      if (method === 'POST' && path === `/v1/channels/${CID}/unread`) {
        const id = (body as { message_id: string }).message_id;
        return ask('unread', () => {
          const i = server.messages.filter((m) => !m.deleted).findIndex((m) => m.id === id);
          const last = server.unread(ME, i);
          if (last === null) throw new Error('gone');
          return server.readState(last);
        });
      }
      if (path.startsWith('/v1/messages/') && path.endsWith('/pin')) {
        const id = path.split('/')[3];
        const i = server.messages.filter((m) => !m.deleted).findIndex((m) => m.id === id);
        return ask('pin', () => ({ message: i < 0 ? null : server.pin(i, method === 'POST') }));
      }
      throw new Error(`unexpected ${method} ${path} ${JSON.stringify(body)}`);
    },
  } as unknown as Http;

  const request = (type: string, body: Record<string, unknown>) => {
    switch (type) {
      case 'channel.watch':
        return ask('watch', () => {
          // A watch again from a seq (a resync): the server sends the events after it first.
          const since = body.since;
          if (typeof since === 'number') server.outbox.unshift(...server.log.filter((e) => e.seq > since));
          return { channel: server.channel(), members: server.memberList(), reload: false };
        });
      case 'read.mark':
        return ask('read', () => {
          return server.readState(server.read(ME, body.seq as number));
        });
      case 'reaction.add':
      case 'reaction.remove': {
        const id = body.message_id as string;
        const t = (body.reaction as { type: string }).type;
        return ask('react', () => {
          const i = server.messages.filter((m) => !m.deleted).findIndex((m) => m.id === id);
          const message = i < 0 ? null : server.react(ME, i, t, type === 'reaction.add');
          if (!message) throw new Error('gone'); // answered as an error; the client rolls back
          return { message };
        });
      }
      default:
        throw new Error(`unexpected request ${type}`);
    }
  };

  const ingest: Ingest = new Ingest({
    state,
    http,
    myId: () => ME,
    updateChannel: (cid, fn) => state.update((s) => updateChannelIn(s, cid, fn)),
    putChannel: (data, members) => state.update((s) => putChannelIn(s, data, members)),
    mergeUsers: () => {},
    presenceChanged: () => {},
    fillGap: (cid) => ingest.fillGap(cid),
    reload: async () => {
      throw new Error('unexpected reload');
    },
    stored: () => {},
    emit: () => {},
    isMuted: () => false,
    unreadPushed: (e) => state.update((s) => applyUnread(s, e)),
  });
  const host: ChannelHost = {
    state,
    http,
    files: undefined as never,
    me: ME,
    request: request as ChannelHost['request'],
    updateChannel: (cid, fn) => state.update((s) => updateChannelIn(s, cid, fn)),
    putChannel: (data, members) => state.update((s) => putChannelIn(s, data, members)),
    hold: (cid) => ingest.hold(cid),
    release: (cid) => ingest.release(cid),
    fillGap: (cid) => ingest.fillGap(cid),
    get hellos() {
      return hellos;
    },
    enqueue: () => Promise.reject(new Error('no sends from this user in the model')),
    findLocal: (cid, id) => {
      const c = state.get().channels[cid];
      return (
        c?.messages.find((m) => m.id === id) ??
        Object.values(c?.threads ?? {})
          .flat()
          .find((m) => m.id === id)
      );
    },
    adopt: () => {},
  };
  const channel = new Channel(host, 'group', 'g');
  /** The connection drops and a new one says hello: what was in flight to it is lost. */
  const hello = () => {
    server.outbox.length = 0;
    hellos++;
    // As the client's onHello does: the pushes missed while away make the resync's snapshots
    // the counts to take.
    state.update(forgetUnreadRevs);
  };
  return { state, pending, ingest, channel, http, hello };
}

/** Let the SDK's continuations run (answers resolved, awaits resumed). */
/** How often the model's own actions ran (printed with CONVERGENCE_STATS=1). */
export const stats = { runs: 0, loaded: 0, reactions: 0, pins: 0, reads: 0, unreads: 0, arounds: 0, threads: 0 };
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

// ---- the interleavings --------------------------------------------------------------------

const op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('send' as const),
      user: fc.constantFrom(...OTHERS),
      mention: fc.boolean(),
      reply: fc.option(fc.nat(6), { freq: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), i: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('react' as const),
      user: fc.constantFrom(...OTHERS),
      i: fc.nat(20),
      type: fc.constantFrom(...TYPES),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('pinOther' as const), i: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rename' as const), n: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('join' as const), user: fc.constantFrom(...OTHERS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('leave' as const), user: fc.constantFrom(...OTHERS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('otherReads' as const), user: fc.constantFrom(...OTHERS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('readElsewhere' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unreadElsewhere' as const), i: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('markUnread' as const), i: fc.nat(20) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('deliver' as const) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('serve' as const), i: fc.nat(5) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('answer' as const), i: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('open' as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('markRead' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('query' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('hello' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('myReaction' as const), i: fc.nat(20), type: fc.constantFrom(...TYPES) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('myPin' as const), i: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('openThread' as const), i: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('around' as const), i: fc.nat(20) }) },
);
/**
 * `hello`: the connection drops (what was in flight to it is lost) and the client resyncs on a
 * new one. Only in the cases below, `drop`: the next frame is lost with its connection (the
 * fuzz has no hello after it to say so).
 */
type Op = (typeof op extends fc.Arbitrary<infer T> ? T : never) | { k: 'drop' };

/**
 * `openFirst`: the user opens the channel before anything else happens (else only if an op says
 * so). `pushes`: the server pushes ME's counts after each change (as it does unless
 * `PARLEY_UNREAD_PUSH_MS=0`); without them the client's own counting must get there alone.
 */
async function run(ops: Op[], openFirst = false, pushes = true): Promise<void> {
  const server = new Server();
  const { state, pending, ingest, channel, http, hello } = harness(server);
  // The channel list brought the channel in before anything happened.
  state.update((s) => putChannelIn(s, server.channel(), server.memberList()));
  const bg: Promise<unknown>[] = [];
  const later = (p: Promise<unknown>) => bg.push(p.catch(() => {}));
  let opened = false;
  let reconnects = 0;
  const client = () => state.get().channels[CID];
  const queryList = async () => {
    const r = await http.call<{ channels: WireChannel[] }>('POST', '/v1/channels/query', { filter: { cid: CID } });
    for (const c of r.channels) state.update((s) => putChannelIn(s, c));
  };
  if (openFirst) {
    later(channel.watch());
    opened = true;
  }

  const push = () => {
    if (pushes) server.pushCounts();
  };
  const deliver = () => {
    const e = server.outbox.shift();
    if (e) ingest.event(e);
  };
  const serve = (i: number) => {
    const open = pending.filter((p) => !('answer' in p));
    const p = open[i % Math.max(1, open.length)];
    if (!p) return;
    try {
      p.answer = { ok: p.serve() };
    } catch (e) {
      p.answer = { err: e };
    }
  };
  const answer = (i: number) => {
    const served = pending.filter((p) => 'answer' in p);
    const p = served[i % Math.max(1, served.length)];
    if (!p) return;
    pending.splice(pending.indexOf(p), 1);
    const a = p.answer;
    if (a && 'err' in a) p.reject(a.err);
    else p.resolve(a?.ok);
  };

  for (const o of ops) {
    switch (o.k) {
      case 'send':
        if (server.members.has(o.user)) server.send(o.user, o.mention, o.reply);
        break;
      case 'delete':
        server.delete(o.i);
        break;
      case 'react':
        server.react(o.user, o.i, o.type);
        break;
      case 'pinOther':
        server.pin(o.i);
        break;
      case 'rename':
        server.rename(o.n);
        break;
      case 'join':
        server.join(o.user);
        break;
      case 'leave':
        server.leave(o.user);
        break;
      case 'otherReads':
        server.read(o.user);
        break;
      case 'readElsewhere':
        server.read(ME);
        break;
      case 'unreadElsewhere':
        server.unread(ME, o.i);
        break;
      case 'markUnread': {
        // From the message list: a top-level message the client shows.
        const m = client()?.loaded ? server.pick(o.i) : undefined;
        const held = m && client()?.messages.find((x) => x.id === m.id);
        if (m && held && !held.parent_id) {
          stats.unreads++;
          later(channel.markUnread(m.id));
        }
        break;
      }
      case 'deliver':
        deliver();
        break;
      case 'drop':
        server.outbox.shift();
        break;
      case 'hello': {
        reconnects++;
        // The client's resync (client.ts): a watched channel is watched again from its seq, a
        // loaded one reads the log, and the channel list is read again.
        hello();
        const c = client();
        if (c?.watching) later(channel.rewatch());
        else if (c?.loaded) later(ingest.fillGap(CID));
        later(queryList());
        break;
      }
      case 'serve':
        serve(o.i);
        break;
      case 'answer':
        answer(o.i);
        break;
      case 'open':
        if (!opened) later(channel.watch());
        opened = true;
        break;
      case 'markRead':
        // The message list marks read once the channel is loaded (and the bottom in view).
        if (client()?.loaded) {
          stats.reads++;
          later(channel.markRead());
        }
        break;
      case 'query':
        later(queryList());
        break;
      case 'myReaction': {
        const m = client()?.loaded ? server.pick(o.i) : undefined;
        const held = m && client()?.messages.find((x) => x.id === m.id);
        if (m && held && !held.parent_id) stats.reactions++;
        if (m && held && !held.parent_id)
          later(
            held.own_reactions.includes(o.type)
              ? channel.deleteReaction(m.id, o.type)
              : channel.sendReaction(m.id, o.type),
          );
        break;
      }
      case 'around': {
        // A jump to a message (a search hit): a window around it, here as large as the history.
        const m = client()?.loaded ? server.pick(o.i) : undefined;
        if (m && !m.parent_id) {
          stats.arounds++;
          later(channel.loadAround(m.id, 200));
        }
        break;
      }
      case 'openThread': {
        const top = client()?.messages.filter((m) => !m.parent_id && m.status === 'sent') ?? [];
        const parent = top[o.i % Math.max(1, top.length)];
        if (parent) {
          stats.threads++;
          later(channel.getReplies(parent.id));
        }
        break;
      }
      case 'myPin': {
        const m = client()?.loaded ? server.pick(o.i) : undefined;
        if (m && !m.parent_id) {
          stats.pins++;
          later(m.pinned ? channel.unpin(m.id) : channel.pin(m.id));
        }
        break;
      }
    }
    push();
    await settle();
  }
  // Everything in flight lands: events in order, answers in the order they were asked for.
  for (let round = 0; round < 50 && (server.outbox.length || pending.length); round++) {
    while (server.outbox.length) deliver();
    while (pending.length) {
      serve(0);
      push();
      answer(0);
      await settle();
    }
    await settle();
  }
  await Promise.all(bg);
  expect(server.outbox).toEqual([]);
  expect(pending).toEqual([]);

  const c = client();
  if (!c) throw new Error('channel gone from state');
  stats.runs++;
  if (c.loaded) stats.loaded++;
  const { unread, mentions } = server.counts();
  expect({ unread: c.unreadCount, mentions: c.mentionCount }).toEqual({ unread, mentions });
  expect(c.channel.membership?.last_read_seq).toBe(server.members.get(ME));
  expect(c.lastSeq).toBe(server.seq);
  // Members of a channel never opened are as the channel list left them (a list answer moves
  // such a channel past events it does not carry); an opened one follows every member event.
  if (c.loaded) expect(Object.keys(c.members).sort()).toEqual([...server.members.keys()].sort());
  // A channel never opened follows live read marks, but a channel-list answer may move it past
  // a member.added (as for members above): the mark a joiner came with is then known only once
  // the channel is opened; so are the marks that moved while the connection was down (a hello).
  for (const [id, mark] of server.members)
    if (c.loaded || (id in c.read && !server.joined.has(id) && !reconnects))
      expect([id, c.read[id]]).toEqual([id, mark]);
  expect(c.channel.name).toBe(server.name);
  expect(c.channel.member_count).toBe(server.members.size);
  if (c.loaded) {
    const shape = (m: Message) => ({
      id: m.id,
      type: m.type,
      reactions: m.reactions,
      own: [...m.own_reactions].sort(),
      pinned: m.pinned,
      replies: m.reply_count,
    });
    expect(c.messages.map(shape)).toEqual(server.view().map(shape));
    // Each thread opened holds every reply, as the server has it.
    for (const [parentId, replies] of Object.entries(c.threads))
      expect([parentId, replies.map(shape)]).toEqual([parentId, server.replies(parentId).map(shape)]);
  }
}

describe('client state converges on the server, whatever the order (issue 54)', () => {
  it('unread counts, read marks, members, channel fields and messages end as the server has them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80, size: 'max' }), fc.boolean(), (ops, openFirst) =>
        run(ops, openFirst),
      ),
      { numRuns: Number(process.env.CONVERGENCE_RUNS) || 300 },
    );
    if (process.env.CONVERGENCE_STATS) console.log('convergence runs', stats);
  });

  it('a reply that lands while its thread loads is in the thread, as is a reaction on one', async () => {
    await run(
      [
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'send', user: 'u2', mention: false, reply: 0 },
        { k: 'serve', i: 0 }, // the watch
        { k: 'answer', i: 0 },
        { k: 'serve', i: 0 }, // its first page
        { k: 'answer', i: 0 },
        { k: 'deliver' },
        { k: 'deliver' },
        { k: 'openThread', i: 0 },
        { k: 'serve', i: 0 }, // the thread's page: one reply
        { k: 'send', user: 'u1', mention: false, reply: 0 },
        { k: 'react', user: 'u1', i: 1, type: 'like' },
        { k: 'deliver' },
        { k: 'deliver' },
        { k: 'answer', i: 0 }, // the page lands after both events
      ] as Op[],
      true,
    );
  });

  it('a message that lands while the channel loads is counted, so it gets marked read', async () => {
    // The regression the web app showed: the watch's snapshot is taken, then the message lands
    // and is in the first page; the live message.new must still count it.
    await run([
      { k: 'open' },
      { k: 'serve', i: 0 }, // the watch snapshot, before the message
      { k: 'send', user: 'u1', mention: false, reply: null },
      { k: 'answer', i: 0 },
      { k: 'serve', i: 0 }, // the first page, with the message
      { k: 'answer', i: 0 },
      { k: 'deliver' },
    ] as Op[]);
  });

  /** A message is delivered, then the channel is opened: its watch's snapshot is at seq 1. */
  const openedAtSeq1: Op[] = [
    { k: 'send', user: 'u1', mention: false, reply: null },
    { k: 'deliver' },
    { k: 'open' },
    { k: 'serve', i: 0 },
    { k: 'answer', i: 0 },
  ];

  it('messages in the first page whose events went with a dropped connection are read from the log, so the seq reaches them', async () => {
    // The watch's snapshot is at seq 1; two messages land before the first page is read, and
    // their live events are lost with the connection. Nothing else happens in the channel: the
    // page's newest seq is what says the log must be read, or the seq (and the read mark it
    // sends) stays short of the last message.
    await run(
      [
        ...openedAtSeq1,
        { k: 'send', user: 'u2', mention: false, reply: null },
        { k: 'send', user: 'u1', mention: true, reply: null },
        { k: 'serve', i: 0 }, // the first page, with both
        { k: 'answer', i: 0 },
        { k: 'drop' },
        { k: 'drop' },
      ] as Op[],
      false,
      false,
    ); // no count pushes: the client's own counting must get there
  });

  it('a reconnect while the channel loads: what the lost connection carried is read after the load', async () => {
    // The watch is answered on the old connection; the connection drops before the first page
    // is read, with the event of a message sent in between; the resync passes the channel by
    // (not loaded yet). The load itself must catch up once it ends.
    await run(
      [
        ...openedAtSeq1,
        { k: 'send', user: 'u2', mention: true, reply: null },
        { k: 'hello' }, // its event is lost
        { k: 'serve', i: 0 }, // the channel list the resync reads
        { k: 'answer', i: 0 },
        { k: 'serve', i: 0 }, // the first page, with both messages
        { k: 'answer', i: 0 },
      ] as Op[],
      false,
      false,
    );
  });

  it('your mark moved back elsewhere while offline: the channel opened after the reconnect shows it', async () => {
    // The read.updated that moved it back is lost with the connection; the channel list and the
    // watch after the hello carry the mark with its newer revision, in the membership and in
    // the members' marks alike.
    await run([
      { k: 'send', user: 'u1', mention: false, reply: null },
      { k: 'readElsewhere' },
      { k: 'deliver' },
      { k: 'unreadElsewhere', i: 0 },
      { k: 'open' },
      { k: 'deliver' },
      { k: 'deliver' },
      { k: 'hello' },
      { k: 'delete', i: 0 },
    ] as Op[]);
  });

  it("marked unread elsewhere where the mark stood, while the channel loads: the snapshot's counts still stand, with no push to say so", async () => {
    // The snapshot's read revision is older than the mark's event, but the mark it counted from
    // is the same: its counts hold, and the message after it counts on top.
    await run(
      [
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'deliver' },
        { k: 'serve', i: 0 }, // the watch
        { k: 'answer', i: 0 },
        { k: 'unreadElsewhere', i: 0 }, // the mark stays before the first message, a new revision
        { k: 'deliver' },
        { k: 'serve', i: 3 }, // the count refresh that read.updated asked for
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'leave', user: 'u1' },
      ] as Op[],
      true,
      false,
    );
  });

  it('a mention deleted while the channel loads, its page showing the tombstone, leaves the mention count, with no push to say so', async () => {
    await run(
      [
        { k: 'send', user: 'u1', mention: true, reply: null },
        { k: 'serve', i: 0 }, // the watch: one unread mention
        { k: 'answer', i: 0 },
        { k: 'delete', i: 0 },
        { k: 'deliver' }, // its message.new, held while the page loads
        { k: 'deliver' }, // its deletion, held too
        { k: 'serve', i: 0 }, // the first page: the message already a tombstone
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'answer', i: 0 },
        { k: 'serve', i: 0 },
        { k: 'delete', i: 0 },
        { k: 'deliver' },
      ] as Op[],
      true,
      false,
    );
  });

  it('a mention deleted before the channel is opened leaves the mention count, with no push to say so', async () => {
    await run(
      [
        { k: 'send', user: 'u1', mention: true, reply: null },
        { k: 'deliver' },
        { k: 'delete', i: 0 },
        { k: 'deliver' },
        { k: 'send', user: 'u1', mention: false, reply: null },
      ] as Op[],
      false,
      false,
    );
  });

  it('a refresh asked for when the mark went back, answered after a message was counted, adds that message, with no push to say so', async () => {
    // Read on another device, then marked unread there: each move of the mark has the client
    // ask for its counts again; both answers are read before the next message, which the client
    // counts on arrival, and land after it.
    await run(
      [
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'readElsewhere' },
        { k: 'deliver' },
        { k: 'deliver' }, // the mark at 1: the counts are asked for
        { k: 'unreadElsewhere', i: 0 },
        { k: 'serve', i: 0 }, // read now: one unread, at seq 1
        { k: 'deliver' }, // the mark back to 0: asked for again
        { k: 'serve', i: 0 }, // the same
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'deliver' }, // counted here: two unread, at seq 2
      ] as Op[],
      false,
      false,
    );
  });

  it('a refresh read before a deletion the client applies first does not count the deleted message, with no push to say so', async () => {
    await run(
      [
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'open' },
        { k: 'serve', i: 0 }, // the watch
        { k: 'answer', i: 0 },
        { k: 'query' }, // the channel list, asked for again
        { k: 'send', user: 'u1', mention: false, reply: null },
        { k: 'serve', i: 0 },
        { k: 'serve', i: 0 },
        { k: 'answer', i: 3 },
        { k: 'delete', i: 0 },
        { k: 'unreadElsewhere', i: 0 },
        { k: 'deliver' },
        { k: 'deliver' },
        { k: 'deliver' },
        { k: 'deliver' },
        { k: 'serve', i: 0 }, // the refresh the mark asked for, before the second deletion
        { k: 'delete', i: 0 },
        { k: 'myReaction', i: 0, type: 'like' },
      ] as Op[],
      false,
      false,
    );
  });
});

/**
 * What a `Channel` handle needs from its client. The handle depends on this interface, not on
 * `ChatClient`, so client.ts → channel.ts is the only direction between the two (no import
 * cycle); `ChatClient` implements it.
 */
import type { Channel, ClientRequestType, Member, ReplyBody, RequestBody } from '@parley/protocol';
import type { Files } from './files.js';
import type { Http } from './http.js';
import type { OutboxEntry } from './outbox.js';
import type { ChannelState, ClientState, LocalMessage } from './state.js';
import type { Store } from './store.js';
import type { ChannelViewers } from './viewers.js';

export interface ChannelHost {
  readonly state: Store<ClientState>;
  readonly http: Http;
  /** The app's upload rules (and whether direct uploads are offered). */
  readonly files: Files;
  /** Who views which channel, and the one this client views (viewers.ts); absent in test hosts. */
  readonly viewers?: ChannelViewers;
  /** The connected user's id (throws before connectUser). */
  readonly me: string;
  request<K extends ClientRequestType>(type: K, body: RequestBody<K>): Promise<ReplyBody<K>>;
  updateChannel(cid: string, fn: (c: ChannelState) => ChannelState): void;
  putChannel(data: Channel, members?: Member[]): void;
  hold(cid: string): void;
  release(cid: string): void;
  /** Read every event after the channel's seq from the server's log and apply them. */
  fillGap(cid: string): Promise<void>;
  /** How many hellos the client has had: a load that saw one since it began watches again. */
  readonly hellos: number;
  enqueue(entry: OutboxEntry, local: LocalMessage): Promise<LocalMessage>;
  findLocal(cid: string, id: string): LocalMessage | undefined;
  /** Register a handle (this one) once its cid is known: a DM made from members. */
  adopt(ch: { readonly cid: string }): unknown;
}

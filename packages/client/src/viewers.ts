/**
 * Who is viewing a conversation right now (`client.viewers`). The UI says which channel is in
 * front of the user (`view(cid)`, or `channel.setViewing(true)`; `view(null)` when it is hidden,
 * blurred or gone) and `state` holds, per channel, everyone the server says views it, this user
 * included (`othersViewing` leaves them out). Live only, kept exact across reconnects: a new
 * connection views nothing, so after every hello the lists are dropped and the view is sent
 * again; its answer is the fresh list.
 *
 * As with presence follows, a `viewers.changed` for a channel may arrive BEFORE the answer of a
 * `channel.view` that was read earlier: such an answer does not undo the event.
 */
import type { ReplyBody, ServerEvent, Viewer } from '@parley/protocol';
import { Store } from './store.js';

/** Per cid, the people viewing it now (ordered by user id, each with their device kinds). */
export type ViewersState = Readonly<Record<string, readonly Viewer[]>>;

export interface ViewersHost {
  /** Send a request on the socket (rejects while offline). */
  request(type: 'channel.view', body: { cid: string | null }): Promise<ReplyBody<'channel.view'>>;
  isOnline(): boolean;
  /** The connected user's id, or '' between sessions. */
  myId(): string;
}

export class ChannelViewers {
  readonly state = new Store<ViewersState>({});
  /** The channel this client views, as the UI last said. */
  #want: string | null = null;
  /** What the server was last asked (null: nothing, undefined: nothing asked on this connection). */
  #sent: string | null | undefined = undefined;
  /** Channels whose event came while a view's answer was in flight. */
  readonly #changedInFlight = new Set<string>();
  #inFlight = 0;

  constructor(private readonly host: ViewersHost) {}

  /** The channel this client says it views now, or null. */
  get viewing(): string | null {
    return this.#want;
  }

  /** View `cid` now (null: no channel is in front of the user). */
  view(cid: string | null): void {
    if (this.#want === cid) return;
    this.#want = cid;
    void this.send();
  }

  /** The others viewing `cid` (the connected user left out). */
  othersViewing(cid: string): readonly Viewer[] {
    const me = this.host.myId();
    return (this.state.get()[cid] ?? []).filter((v) => v.user_id !== me);
  }

  /** `viewers.changed` (client.ts hands it over). */
  onEvent(e: ServerEvent): void {
    if (e.type !== 'viewers.changed') return;
    if (this.#inFlight > 0) this.#changedInFlight.add(e.cid);
    this.put(e.cid, e.viewers);
  }

  /** After a hello: the lists may have moved while offline, and the new connection views nothing. */
  reconnected(): void {
    this.state.update(() => ({}));
    this.#sent = undefined;
    void this.send();
  }

  /** Forget everything (disconnectUser). */
  reset(): void {
    this.#want = null;
    this.#sent = undefined;
    this.#changedInFlight.clear();
    this.state.update(() => ({}));
  }

  private put(cid: string, viewers: readonly Viewer[]): void {
    this.state.update((s) => {
      if (viewers.length === 0) {
        if (!(cid in s)) return s;
        const { [cid]: _gone, ...rest } = s;
        return rest;
      }
      return { ...s, [cid]: viewers };
    });
  }

  private async send(): Promise<void> {
    if (!this.host.isOnline()) return; // sent after the next hello
    const cid = this.#want;
    if (this.#sent === cid) return;
    this.#sent = cid;
    if (this.#inFlight++ === 0) this.#changedInFlight.clear();
    try {
      const r = await this.host.request('channel.view', { cid });
      if (cid !== null && !this.#changedInFlight.has(cid)) this.put(cid, r.viewers);
    } catch {
      // Refused (no access) or offline: nothing is viewed; the next hello or view asks again.
      if (this.#sent === cid) this.#sent = undefined;
    } finally {
      this.#inFlight--;
    }
  }
}

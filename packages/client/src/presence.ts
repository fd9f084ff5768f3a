/**
 * Presence follows: which users' presence this client wants (protocol 2 sends
 * `presence.changed` about another user only to connections that subscribed to them). Each
 * part of a UI that shows users asks for them (`ChatClient.watchPresence`) and gets a release
 * function; a user is followed while anyone asks. Asks are counted, sent in batches of at most
 * `MAX_PRESENCE_IDS`, and sent again in full after every hello, as a new connection follows no
 * one.
 *
 * A subscribe's answer is a snapshot read after the server started following, so a change made
 * while it was read can reach the socket as a `presence.changed` event BEFORE the answer that
 * still shows the old state. The answer must not undo that event: states of users whose event
 * arrived while their subscribe was in flight are left as the event set them.
 */
import { type DeviceKind, MAX_PRESENCE_IDS, MAX_PRESENCE_SUBSCRIPTIONS, type ReplyBody } from '@parley/protocol';

type PresenceState = 'online' | 'away' | 'busy' | 'offline';

export interface PresenceHost {
  /** Send a request on the socket (rejects while offline). */
  request(type: 'presence.subscribe' | 'presence.unsubscribe', body: { user_ids: string[] }): Promise<unknown>;
  isOnline(): boolean;
  /** Apply the states a subscribe answered with, and the device kinds of those it says are connected. */
  apply(states: Record<string, PresenceState>, devices?: Record<string, DeviceKind[]>): void;
}

export class PresenceFollows {
  private readonly counts = new Map<string, number>();
  /** Ids whose subscribe or unsubscribe waits for the end of the tick. */
  private readonly toAdd = new Set<string>();
  private readonly toDrop = new Set<string>();
  private scheduled = false;
  /** Ids with a subscribe in flight, each with whether a `presence.changed` came meanwhile. */
  private readonly inFlight = new Map<string, { changed: boolean }>();

  constructor(private readonly host: PresenceHost) {}

  /** The users followed now. */
  get followed(): string[] {
    return [...this.counts.keys()];
  }

  /** Follow these users until the returned function is called (once). */
  watch(userIds: readonly string[]): () => void {
    const ids = [...new Set(userIds)];
    for (const id of ids) {
      const n = this.counts.get(id) ?? 0;
      if (n === 0 && this.counts.size >= MAX_PRESENCE_SUBSCRIPTIONS) continue; // the server's bound
      this.counts.set(id, n + 1);
      if (n === 0) {
        this.toDrop.delete(id);
        this.toAdd.add(id);
      }
    }
    this.schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = this.counts.get(id);
        if (n === undefined) continue;
        if (n > 1) this.counts.set(id, n - 1);
        else {
          this.counts.delete(id);
          this.toAdd.delete(id);
          this.toDrop.add(id);
        }
      }
      this.schedule();
    };
  }

  /** After a hello: the new connection follows no one yet, so everything is asked for again. */
  resubscribe(): void {
    this.toDrop.clear();
    for (const id of this.counts.keys()) this.toAdd.add(id);
    this.schedule();
  }

  /** A `presence.changed` about `userId` arrived: newer than any answer still on its way. */
  changed(userId: string): void {
    const pending = this.inFlight.get(userId);
    if (pending) pending.changed = true;
  }

  /** Forget everything (disconnectUser). */
  reset(): void {
    this.counts.clear();
    this.toAdd.clear();
    this.toDrop.clear();
    this.inFlight.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // One request per tick for every ask made in it (a list rendering many rows).
    queueMicrotask(() => {
      this.scheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    if (!this.host.isOnline()) return; // sent again after the next hello
    const add = [...this.toAdd];
    const drop = [...this.toDrop];
    this.toAdd.clear();
    this.toDrop.clear();
    for (let i = 0; i < drop.length; i += MAX_PRESENCE_IDS)
      await this.host
        .request('presence.unsubscribe', { user_ids: drop.slice(i, i + MAX_PRESENCE_IDS) })
        .catch(() => {});
    for (let i = 0; i < add.length; i += MAX_PRESENCE_IDS) {
      const batch = add.slice(i, i + MAX_PRESENCE_IDS);
      const marks = batch.map((id) => {
        const mark = { changed: false };
        this.inFlight.set(id, mark);
        return [id, mark] as const;
      });
      try {
        const r = (await this.host.request('presence.subscribe', {
          user_ids: batch,
        })) as ReplyBody<'presence.subscribe'>;
        const fresh: Record<string, PresenceState> = {};
        const devices: Record<string, DeviceKind[]> = {};
        for (const [id, mark] of marks) {
          const state = r.presence[id];
          if (!state || mark.changed) continue;
          fresh[id] = state;
          // An older server answers no devices: then what was known stays.
          if (r.devices) devices[id] = state === 'offline' ? [] : (r.devices[id] ?? []);
        }
        this.host.apply(fresh, r.devices ? devices : undefined);
      } catch {
        // Offline or refused: the next hello asks again.
      } finally {
        // A later subscribe of the same id owns its own mark.
        for (const [id, mark] of marks) if (this.inFlight.get(id) === mark) this.inFlight.delete(id);
      }
    }
  }
}

/**
 * Feature flags in the SDK (`client.flags`, with `client.getFlags()` and `client.flag(key)`):
 * the app's flags as evaluated for this user. Every hello carries them (`flags`), so `state` is
 * loaded from the moment the connection opens, without a request; every `feature_flags.updated`
 * carries this user's `value` of the changed flag, which is set as it comes. A server that sends
 * neither is read with `load()` (`GET /v1/me/flags`), again at each such event and reconnect.
 * `list`, `put` and `remove` are the admin calls (an app admin, or a server token).
 */
import type {
  FeatureFlag,
  FeatureFlagResponse,
  FeatureFlagsResponse,
  MyFlagsResponse,
  PutFeatureFlagBody,
  ServerEvent,
} from '@parley/protocol';
import type { Http } from './http.js';
import { Store } from './store.js';

export interface FlagsState {
  /** Each flag of the app by key: whether this user has it (after `load()`). */
  flags: Record<string, boolean>;
  loaded: boolean;
}

export class FeatureFlags {
  readonly state = new Store<FlagsState>({ flags: {}, loaded: false });
  #loading: Promise<Record<string, boolean>> | null = null;
  /** Bumped by each read started; an answer is taken only if no later read's was, so an older answer never overwrites a newer one. */
  #generation = 0;
  #applied = 0;

  constructor(private readonly http: Http) {}

  /** This user's flags, read once (again only with `force`). */
  load(force = false): Promise<Record<string, boolean>> {
    if (this.state.get().loaded && !force) return Promise.resolve(this.state.get().flags);
    if (!this.#loading || force) {
      const generation = ++this.#generation;
      const p = this.http.call<MyFlagsResponse>('GET', '/v1/me/flags').then((r) => {
        if (generation > this.#applied) {
          this.#applied = generation;
          this.state.update(() => ({ flags: r.flags, loaded: true }));
        }
        return r.flags;
      });
      this.#loading = p;
      p.catch(() => {
        if (this.#loading === p) this.#loading = null;
      });
    }
    return this.#loading as Promise<Record<string, boolean>>;
  }

  /** Whether this user has the flag (false for an unknown flag, or before `load()`). */
  has(key: string): boolean {
    return this.state.get().flags[key] === true;
  }

  /** Every flag of the app with its rule (admins). */
  async list(): Promise<FeatureFlag[]> {
    return (await this.http.call<FeatureFlagsResponse>('GET', '/v1/feature-flags')).flags;
  }

  /** Create a flag, or change the fields given (admins). */
  async put(key: string, body: PutFeatureFlagBody): Promise<FeatureFlag> {
    return (await this.http.call<FeatureFlagResponse>('PUT', `/v1/feature-flags/${encodeURIComponent(key)}`, body))
      .flag;
  }

  /** Delete a flag (admins). */
  async remove(key: string): Promise<void> {
    await this.http.call('DELETE', `/v1/feature-flags/${encodeURIComponent(key)}`);
  }

  /** @internal The hello's flags: this user's, as of the connection's opening. */
  fromHello(flags: Record<string, boolean>): void {
    // A read under way started before this hello: its answer is not newer.
    this.#applied = ++this.#generation;
    this.#loading = null;
    this.state.update(() => ({ flags: { ...flags }, loaded: true }));
  }

  /**
   * The client hands every `feature_flags.updated` here: the event's `value` is this user's now;
   * an event without one (an older server) has them read again, if read at all.
   */
  onEvent(e: ServerEvent): void {
    if (e.type !== 'feature_flags.updated') return;
    if (e.value === undefined) {
      this.refresh();
      return;
    }
    const { key, change, value } = e;
    this.state.update((s) => {
      const flags = { ...s.flags };
      if (change === 'deleted') delete flags[key];
      else flags[key] = value;
      return { ...s, flags };
    });
  }

  /** After a reconnect (events may have been missed): read again, if read at all. */
  reconnected(): void {
    this.refresh();
  }

  private refresh(): void {
    if (this.state.get().loaded || this.#loading) this.load(true).catch(() => {});
  }
}

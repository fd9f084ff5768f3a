/**
 * Loads that try again by themselves when they fail on the network. A screen's first load (the
 * channel list, a channel's messages, the inbox…) is asked for once, on mount; when that one
 * request is lost — the device changing networks, Chromium's `ERR_NETWORK_CHANGED`, a proxy's
 * 503 while the server restarts — nothing would ask again, and the screen would stay empty
 * although the socket reconnects. `keepLoading` asks again after 1, 2, 4 … up to 30 s, until the
 * load succeeds or fails in a way that trying again cannot fix (FORBIDDEN, NOT_FOUND…).
 */
import { ParleyError } from './errors.js';

/** The longest wait between two tries of a load (30 s). */
export const MAX_RETRY_DELAY = 30_000;

/** How long to wait before retry `n` (0 for the first): 1, 2, 4, 8, 16, then 30 s. */
export function retryDelay(n: number): number {
  return Math.min(MAX_RETRY_DELAY, 1000 * 2 ** Math.max(0, n));
}

/**
 * Whether a failed load may succeed if asked again: a retryable ParleyError (the SDK's
 * `DISCONNECTED` for a request lost on the network, `UNAVAILABLE`, `RATE_LIMITED`…), or the
 * `TypeError` of a bare `fetch` that never reached the server ("Failed to fetch").
 */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ParleyError) return e.retryable;
  if (e instanceof TypeError) return true;
  return (e as { retryable?: unknown } | null)?.retryable === true;
}

/** Options of `retrying` and `keepLoading`. */
export interface KeepLoadingOptions {
  /** Each failure, and whether another try is scheduled (for an error line that clears on success). */
  onError?: (error: unknown, retrying: boolean) => void;
  /** Which failures to try again (default `isRetryable`). */
  retryable?: (error: unknown) => boolean;
  /** Stops the tries: none starts after it aborts, and the promise rejects with its reason. */
  signal?: AbortSignal;
  /**
   * Moments worth a try at once, cutting a wait short: called with the function that makes the
   * try, it returns its unsubscribe. `onReconnect(client)` is the connection coming back up.
   */
  sooner?: (tryNow: () => void) => () => void;
}

/**
 * How to keep trying a load that needs the connection (a channel's first watch): tried again
 * when lost on the network, or cut off by the connection dropping or not up yet, and at once when
 * the connection comes (back) up (`onReconnect`).
 */
export function connectionRetry(
  client: Parameters<typeof onReconnect>[0],
): Pick<KeepLoadingOptions, 'retryable' | 'sooner'> {
  return {
    retryable: (e) => isRetryable(e) || (e instanceof ParleyError && e.code === 'DISCONNECTED'),
    sooner: onReconnect(client),
  };
}

/**
 * For `sooner`: the client's connection coming (back) up, as after a phone changes networks or
 * an app opened offline finds one. A load lost on the network is then tried at once.
 */
export function onReconnect(client: {
  state: { get(): { connection: string }; subscribe(listener: (s: { connection: string }) => void): () => void };
}): (tryNow: () => void) => () => void {
  return (tryNow) => {
    let was = client.state.get().connection;
    return client.state.subscribe((st) => {
      const up = st.connection === 'online' && was !== 'online';
      was = st.connection;
      if (up) tryNow();
    });
  };
}

/**
 * `load()`, and while it fails with an error worth trying again, again after 1, 2, 4 … 30 s:
 * resolves with its first success, rejects with the first error not worth trying again (or with
 * `signal`'s reason once it aborts; a try under way then still finishes, unheard).
 */
export function retrying<T>(load: () => Promise<T>, opts: KeepLoadingOptions = {}): Promise<T> {
  const retryable = opts.retryable ?? isRetryable;
  const { signal } = opts;
  return new Promise<T>((resolve, reject) => {
    let tries = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let unsubscribe: (() => void) | null = null;
    const wait = (ms: number) => {
      timer = setTimeout(attempt, ms);
      unsubscribe = opts.sooner?.(attempt) ?? null;
    };
    const aborted = () => {
      if (timer) clearTimeout(timer);
      unsubscribe?.();
      reject(signal?.reason);
    };
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    const attempt = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      unsubscribe?.();
      unsubscribe = null;
      let p: Promise<T>;
      try {
        p = load();
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (value) => {
          signal?.removeEventListener('abort', aborted);
          resolve(value);
        },
        (e: unknown) => {
          if (signal?.aborted) return;
          const again = retryable(e);
          opts.onError?.(e, again);
          if (again) {
            wait(retryDelay(tries++));
            return;
          }
          signal?.removeEventListener('abort', aborted);
          reject(e);
        },
      );
    };
    attempt();
  });
}

/**
 * `retrying(load)` started now, for a screen's first load: the returned function stops it (no
 * further try starts; the result of one under way, if it writes state, still lands), and its
 * failures go to `onError` only. Shaped for a React effect:
 * `useEffect(() => keepLoading(() => client.inbox.load()), [client])`.
 */
export function keepLoading(load: () => Promise<unknown>, opts: Omit<KeepLoadingOptions, 'signal'> = {}): () => void {
  const stop = new AbortController();
  retrying(load, { ...opts, signal: stop.signal }).catch(() => {});
  return () => stop.abort();
}

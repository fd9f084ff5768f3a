/**
 * A phone's connection follows the app and the network: the socket closes when the app goes to
 * the background (the OS would freeze it anyway, and the server then pushes to the device at once
 * rather than after its grace period for users who are online), and comes back — resyncing what
 * was missed, sending what waited in the outbox — when the app is active again or the network
 * returns. Browsers need none of this: the client follows `online`/`offline` by itself.
 */
import type { ChatClient } from '@parley/client';
import { AppState, type AppStateStatus } from 'react-native';

/** The part of React Native's `AppState` used here. */
export interface AppStateLike {
  currentState: AppStateStatus | string | null | undefined;
  addEventListener(type: 'change', listener: (state: AppStateStatus) => void): { remove(): void };
}

/** NetInfo's state, as far as it is read here (`@react-native-community/netinfo` or `expo-network`'s shape). */
export interface NetStateLike {
  isConnected: boolean | null;
  isInternetReachable?: boolean | null;
}

/** The part of `@react-native-community/netinfo`'s default export used here. */
export interface NetInfoLike {
  addEventListener(listener: (state: NetStateLike) => void): () => void;
}

/** Options of {@link watchAppLifecycle}. */
export interface AppLifecycleOptions {
  /** Default: React Native's `AppState`. */
  appState?: AppStateLike;
  /** `NetInfo` from `@react-native-community/netinfo`, to reconnect the moment the network returns. */
  netInfo?: NetInfoLike;
  /**
   * Keep the socket open in the background (default false). Only for apps with a background mode
   * that keeps JavaScript running (a call, audio); others are frozen and the socket dies anyway.
   */
  stayConnectedInBackground?: boolean;
}

/**
 * Follow the app's state and the network: background → `client.pauseConnection()`; active
 * again, or the network back → `client.resumeConnection()`; the network gone → paused until it
 * returns. `inactive` (iOS: the app switcher, a system sheet) changes nothing. Returns the
 * function that stops following.
 *
 * ```ts
 * await client.connectUser({ id }, token);
 * const stop = watchAppLifecycle(client, { netInfo: NetInfo });
 * ```
 */
export function watchAppLifecycle(client: ChatClient, opts: AppLifecycleOptions = {}): () => void {
  const appState = opts.appState ?? (AppState as unknown as AppStateLike);
  let background = appState.currentState === 'background';
  // NetInfo answers once at subscription with the current state: "connected" then is no news.
  let offline = false;
  const sub = appState.addEventListener('change', (next) => {
    if (next === 'background') {
      background = true;
      if (!opts.stayConnectedInBackground) client.pauseConnection();
    } else if (next === 'active') {
      background = false;
      // With the network gone, NetInfo's return resumes it.
      if (!offline) client.resumeConnection();
    }
  });
  const unNet = opts.netInfo?.addEventListener((s) => {
    // `isInternetReachable` is null while unknown: only a definite false counts as offline.
    const down = s.isConnected === false || s.isInternetReachable === false;
    if (down && !offline) {
      offline = true;
      client.pauseConnection();
    } else if (!down && offline) {
      offline = false;
      if (!background || opts.stayConnectedInBackground) client.resumeConnection();
    }
  });
  return () => {
    sub.remove();
    unNet?.();
  };
}

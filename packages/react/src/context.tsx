/**
 * The provider and the hooks every component reads state through. State comes from the
 * client's store of immutable snapshots; components subscribe with `useSyncExternalStore`
 * and a selector, so a component re-renders only when what it selected changed.
 */
import type { Channel as ChannelHandle, ChannelState, ChatClient, ClientState } from '@parley/client';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useSyncExternalStore } from 'react';
import { cx } from './format.js';

/** The colour scheme of the kit's stylesheet. */
export type Theme = 'light' | 'dark';

interface ChatContextValue {
  client: ChatClient;
  theme: Theme;
}

const ChatContext = createContext<ChatContextValue | null>(null);

/** Props of {@link ChatProvider}. */
export interface ChatProviderProps {
  /** A connected (or connecting) client; the provider never connects or disconnects it. */
  client: ChatClient;
  /** `light` (default) or `dark`: sets `data-theme` on the root element for the stylesheet. */
  theme?: Theme;
  /** Extra class names for the root element. */
  className?: string;
  children?: ReactNode;
}

/**
 * Makes a `ChatClient` available to every Parley component below it, and renders the themed
 * root element (`<div class="parley" data-theme>`) the stylesheet's variables hang from.
 */
export function ChatProvider({ client, theme = 'light', className, children }: ChatProviderProps) {
  const value = useMemo(() => ({ client, theme }), [client, theme]);
  return (
    <ChatContext.Provider value={value}>
      <div className={cx('parley', className)} data-theme={theme}>
        {children}
      </div>
    </ChatContext.Provider>
  );
}

function useChatContext(): ChatContextValue {
  const ctx = useContext(ChatContext);
  if (!ctx) throw new Error('Parley components must be rendered inside <ChatProvider client={…}>');
  return ctx;
}

/** The `ChatClient` given to the nearest {@link ChatProvider}. */
export function useChatClient(): ChatClient {
  return useChatContext().client;
}

/** The theme given to the nearest {@link ChatProvider}. */
export function useTheme(): Theme {
  return useChatContext().theme;
}

/**
 * Equal by identity, or (for arrays and plain objects) by identity of each element or value,
 * one level deep. The default comparison of {@link useClientState}.
 */
export function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of ka) if (!Object.hasOwn(rb, k) || !Object.is(ra[k], rb[k])) return false;
  return true;
}

/**
 * Select a value from the client's state and re-render when it changes. The result is stable:
 * when a new snapshot selects a value equal (by `isEqual`, default {@link shallowEqual}) to the
 * previous one, the previous one is returned, so selectors may build arrays or objects freely.
 *
 * ```tsx
 * const unread = useClientState((s) => s.totalUnread);
 * ```
 */
export function useClientState<T>(
  selector: (state: ClientState) => T,
  isEqual: (a: T, b: T) => boolean = shallowEqual,
): T {
  const client = useChatClient();
  const cache = useRef<{ client: ChatClient; state: ClientState; selector: unknown; value: T } | null>(null);
  const subscribe = useCallback((onChange: () => void) => client.state.subscribe(onChange), [client]);
  const getSnapshot = (): T => {
    const state = client.state.get();
    const c = cache.current;
    if (c && c.client === client && c.state === state && c.selector === selector) return c.value;
    const next = selector(state);
    const value = c && c.client === client && isEqual(c.value, next) ? c.value : next;
    cache.current = { client, state, selector, value };
    return value;
  };
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** The cid of a channel handle, or null while a DM made from members has none yet. */
export function cidOf(channel: ChannelHandle | string | null | undefined): string | null {
  if (!channel) return null;
  if (typeof channel === 'string') return channel;
  return channel.id ? `${channel.type}:${channel.id}` : null;
}

/**
 * One channel's state (`undefined` until it is loaded), by handle or cid; re-renders when that
 * channel changes and only then.
 */
export function useChannelState(channel: ChannelHandle | string | null | undefined): ChannelState | undefined {
  return useClientState((s) => {
    const cid = cidOf(channel);
    return cid ? s.channels[cid] : undefined;
  }, Object.is);
}

/** The connected user's id, or null before the first hello. */
export function useMe(): string | null {
  return useClientState((s) => s.user?.id ?? null);
}

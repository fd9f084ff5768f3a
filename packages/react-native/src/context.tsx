/**
 * `ChatProvider` and the hooks every component reads state through, as in the React kit: state
 * comes from the client's store of immutable snapshots, read with `useSyncExternalStore` and a
 * selector, so a component re-renders only when what it selected changed.
 */
import type { Channel as ChannelHandle, ChannelState, ChatClient, ClientState } from '@parley/client';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useSyncExternalStore } from 'react';
import { type StyleProp, View, type ViewStyle } from 'react-native';
import { PALETTES, type Palette, type Theme } from './theme.js';

interface ChatContextValue {
  client: ChatClient;
  theme: Theme;
  palette: Palette;
}

const ChatContext = createContext<ChatContextValue | null>(null);

/** Props of {@link ChatProvider}. */
export interface ChatProviderProps {
  /** A connected (or connecting) client; the provider never connects or disconnects it. */
  client: ChatClient;
  /** `light` (default) or `dark`. */
  theme?: Theme;
  /** Colours to use instead of the theme's (any subset). */
  palette?: Partial<Palette>;
  style?: StyleProp<ViewStyle>;
  children?: ReactNode;
}

/** Makes a `ChatClient` (and the theme) available to every Parley component below it. */
export function ChatProvider({ client, theme = 'light', palette, style, children }: ChatProviderProps) {
  const value = useMemo(
    () => ({ client, theme, palette: { ...PALETTES[theme], ...palette } }),
    [client, theme, palette],
  );
  return (
    <ChatContext.Provider value={value}>
      <View style={[{ flex: 1, backgroundColor: value.palette.background }, style]}>{children}</View>
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

/** The colours in effect. */
export function usePalette(): Palette {
  return useChatContext().palette;
}

/** Equal by identity, or (arrays and plain objects) by identity of each element or value, one level deep. */
export function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  const ka = Object.keys(a);
  const rb = b as Record<string, unknown>;
  return (
    ka.length === Object.keys(b).length &&
    ka.every((k) => Object.hasOwn(rb, k) && Object.is((a as Record<string, unknown>)[k], rb[k]))
  );
}

/**
 * Select a value from the client's state and re-render when it changes (by `isEqual`, default
 * {@link shallowEqual}); the previous value is returned while equal, so selectors may build
 * arrays and objects freely.
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

/** One channel's state (undefined until loaded), by handle or cid. */
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

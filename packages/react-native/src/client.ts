/** A `ChatClient` set up for React Native. */
import { ChatClient, type ChatClientOptions } from '@parley/client';

/** Options of {@link createChatClient}: the client's, with `storage` required (a phone's app restarts often). */
export type NativeChatClientOptions = Omit<ChatClientOptions, 'transport'> &
  Required<Pick<ChatClientOptions, 'storage'>>;

/**
 * A `ChatClient` for React Native: React Native's own `WebSocket` and `fetch`, and the WebSocket
 * transport only — the fallback transport reads a streamed response body, which React Native's
 * `fetch` does not give.
 */
export function createChatClient(options: NativeChatClientOptions): ChatClient {
  return new ChatClient({ ...options, transport: 'websocket' });
}

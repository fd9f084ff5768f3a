import type { Space } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useSyncExternalStore } from 'react';

/** The workspace's spaces (the office), live from the SDK's state. */
export function useSpaces(): Space[] {
  const client = useChatClient();
  return useSyncExternalStore(
    (cb) => client.spaces.state.subscribe(cb),
    () => client.spaces.state.get().spaces,
  );
}

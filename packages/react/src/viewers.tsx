/**
 * Who is viewing a conversation right now: `useViewing` says the shown channel is in front of
 * the user (while the page is visible and focused; not when hidden, blurred or unmounted),
 * `useViewers` reads who else views it, and `<ChannelViewers>` shows them as "N viewing" with
 * their faces, for a channel header.
 */
import type { Channel as ChannelHandle } from '@parley/client';
import type { Viewer } from '@parley/protocol';
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';
import { useOptionalChannelContext } from './channel.js';
import { cidOf, useChatClient, useClientState, useMe } from './context.js';
import { cx, devicesText, displayName } from './format.js';
import { Avatar, lookupUser } from './user.js';

const NONE: readonly Viewer[] = [];

/** Whether the page is visible and its window has focus (live). */
function useInFront(): boolean {
  const subscribe = useCallback((onChange: () => void) => {
    if (typeof window === 'undefined') return () => {};
    document.addEventListener('visibilitychange', onChange);
    window.addEventListener('focus', onChange);
    window.addEventListener('blur', onChange);
    return () => {
      document.removeEventListener('visibilitychange', onChange);
      window.removeEventListener('focus', onChange);
      window.removeEventListener('blur', onChange);
    };
  }, []);
  const get = () =>
    typeof document === 'undefined' ? false : document.visibilityState === 'visible' && document.hasFocus();
  return useSyncExternalStore(subscribe, get, () => false);
}

/**
 * Say that `channel` (default: the surrounding `<Channel>`'s) is the one in front of the user
 * while `active` and the page is visible and focused: others see you among its viewers. The view
 * ends when the page is hidden or blurred, `active` turns false, or the component unmounts.
 */
export function useViewing(channel?: ChannelHandle | null, active = true): void {
  const ctx = useOptionalChannelContext();
  const handle = channel === undefined ? ctx?.channel : channel;
  const inFront = useInFront();
  // A DM made from members has no cid until it exists: nothing to view yet.
  const cid = cidOf(handle);
  const on = active && inFront && cid !== null;
  useEffect(() => {
    if (!handle || !on) return;
    handle.setViewing(true);
    return () => handle.setViewing(false);
  }, [handle, on]);
}

/** What {@link useViewers} returns. */
export interface ViewersInfo {
  /** The others viewing the channel now (you left out), ordered by user id. */
  others: readonly Viewer[];
  /** How many people view it now, you included. */
  count: number;
}

/** Who is viewing `channel` (default: the surrounding `<Channel>`'s) now, live. */
export function useViewers(channel?: ChannelHandle | string | null): ViewersInfo {
  const client = useChatClient();
  const ctx = useOptionalChannelContext();
  const cid = cidOf(channel === undefined ? ctx?.channel : channel);
  const me = useMe();
  const get = () => (cid ? (client.viewers.state.get()[cid] ?? NONE) : NONE);
  const subscribe = useCallback((l: () => void) => client.viewers.state.subscribe(l), [client]);
  const all = useSyncExternalStore(subscribe, get, get);
  return useMemo(() => ({ others: all.filter((v) => v.user_id !== me), count: all.length }), [all, me]);
}

export { devicesText } from './format.js';

/** Props of {@link ChannelViewers}. */
export interface ChannelViewersProps {
  /** The channel; default: the surrounding `<Channel>`'s. */
  channel?: ChannelHandle | string | null;
  /** Most faces shown; the rest are counted. Default 3. */
  max?: number;
  /** Face size in pixels; default 22. */
  size?: number;
  className?: string;
}

/**
 * "2 viewing" with the faces of the others viewing the channel now (never yours), each titled
 * with their name and devices. Renders nothing while nobody else views it.
 */
export function ChannelViewers({ channel, max = 3, size = 22, className }: ChannelViewersProps) {
  const ctx = useOptionalChannelContext();
  const cid = cidOf(channel === undefined ? ctx?.channel : channel);
  const { others } = useViewers(cid);
  const users = useClientState((s) => others.map((v) => lookupUser(s, cid ? s.channels[cid] : undefined, v.user_id)));
  if (others.length === 0) return null;
  const names = others.map((v, i) => `${displayName(users[i], v.user_id)} ${devicesText(v.devices)}`);
  const label = `${others.length} viewing now: ${names.join('; ')}`;
  return (
    <span className={cx('parley-viewers', className)} role="status" aria-label={label} title={names.join('\n')}>
      <span className="parley-viewers__faces" aria-hidden="true">
        {others.slice(0, max).map((v, i) => (
          <span key={v.user_id} className="parley-viewers__face" data-user-id={v.user_id}>
            <Avatar user={users[i]} id={v.user_id} size={size} />
            {v.devices.includes('mobile') ? <span className="parley-viewers__device">📱</span> : null}
          </span>
        ))}
      </span>
      <span className="parley-viewers__count" data-testid="viewers-count">
        {others.length} viewing
      </span>
    </span>
  );
}

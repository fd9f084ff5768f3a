/**
 * Which layout the window is in. Phones (up to 600 px wide) show one pane at a time — sidebar,
 * conversation, thread or panel — each a full screen left by a back button or the back gesture;
 * tablets and desktops show panes side by side. CSS draws the panes (shell.css, the same
 * breakpoint); the components ask here where the two layouts behave differently (what the
 * back button does, whether an open thread is an address in the history).
 */
import { useSyncExternalStore } from 'react';

/** The phone layout's media query; shell.css uses the same width. */
export const PHONE_QUERY = '(max-width: 600px)';
/** Up to a narrow tablet's width a conversation's header is compact: its name, calls, "⋯". */
export const COMPACT_QUERY = '(max-width: 800px)';

const lists = new Map<string, MediaQueryList | null>();
function list(query: string): MediaQueryList | null {
  if (!lists.has(query)) lists.set(query, typeof window.matchMedia === 'function' ? window.matchMedia(query) : null);
  return lists.get(query) ?? null;
}

/** Whether `query` matches now; re-renders when that changes (a rotation, a resize). */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const mq = list(query);
      mq?.addEventListener('change', onChange);
      return () => mq?.removeEventListener('change', onChange);
    },
    () => list(query)?.matches ?? false,
    () => false,
  );
}

/** Whether the window is phone-sized; re-renders when it crosses the breakpoint. */
export const usePhoneLayout = (): boolean => useMediaQuery(PHONE_QUERY);

/**
 * The app's height follows the visual viewport where the browser does not shrink the page for
 * the on-screen keyboard itself (Safari on iOS ignores `interactive-widget=resizes-content` in
 * the viewport meta, which Chrome on Android honours): `--app-height` keeps the composer above
 * the keyboard. Only while not pinch-zoomed: a zoomed view is smaller than the page on purpose.
 */
export function followVisualViewport(): void {
  const vv = window.visualViewport;
  if (!vv) return;
  const root = document.documentElement;
  const update = () => {
    if (Math.abs(vv.scale - 1) > 0.01) return;
    if (vv.height < window.innerHeight - 1) root.style.setProperty('--app-height', `${Math.round(vv.height)}px`);
    else root.style.removeProperty('--app-height');
  };
  vv.addEventListener('resize', update);
  update();
}

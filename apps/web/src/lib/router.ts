/**
 * A small history router: the path is state, `navigate` pushes (or replaces) it, and links
 * are ordinary anchors whose clicks are intercepted. The app has a handful of routes; a
 * routing library would be more code than the routes themselves.
 */
import { type MouseEvent, useEffect, useRef, useSyncExternalStore } from 'react';

const CHANGE = 'parley:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path with its query string; re-renders on navigation. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/**
 * What the app keeps in each history entry it makes: the page it came from (none: entered from
 * outside), and for an entry that stands for something open over the page (a dialog on a
 * phone: `useBackCloses`) that thing's number.
 */
interface EntryState {
  from?: string;
  layer?: number;
}
const entryState = (): EntryState => (window.history.state as EntryState | null) ?? {};

/**
 * Go to `to` (a same-origin path). A new entry remembers the page it was pushed from (so
 * `back` knows there is an in-app page behind it); a replaced one keeps what it had.
 */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  const here = entryState();
  // Leaving from a dialog's entry (a search hit, say): the new page takes that entry's place,
  // so going back does not land on the dialog's empty entry first.
  if (here.layer) window.history.replaceState({ from: here.from } satisfies EntryState, '', to);
  else if (opts.replace) window.history.replaceState(here, '', to);
  else window.history.pushState({ from: snapshot() } satisfies EntryState, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

let layers = 0;

/**
 * While `active`, something open over the page (a dialog, the office on a phone) is an entry
 * of the history — the same address — so the back gesture closes it (calls `close`) rather
 * than leave the page under it. Closed any other way, its entry is taken off again.
 */
export function useBackCloses(active: boolean, close: () => void): void {
  const latest = useRef(close);
  latest.current = close;
  useEffect(() => {
    if (!active) return;
    const id = ++layers;
    let gone = false;
    const onPop = () => {
      // Still on this entry, or on one opened over it: stays open.
      if ((entryState().layer ?? 0) >= id) return;
      gone = true;
      window.removeEventListener('popstate', onPop);
      latest.current();
    };
    // A moment later: what mounts and unmounts at once (React's development double effects)
    // leaves no entry behind, nor a `back` racing the next one's push.
    const timer = setTimeout(() => {
      window.history.pushState({ from: snapshot(), layer: id } satisfies EntryState, '', snapshot());
      window.addEventListener('popstate', onPop);
    }, 0);
    return () => {
      clearTimeout(timer);
      window.removeEventListener('popstate', onPop);
      if (!gone && entryState().layer === id) window.history.back();
    };
  }, [active]);
}

/**
 * A back button (the phone layout's panes) goes up to `parent`. Where this entry was pushed
 * from there, or from the same page (a thread or panel opened over it), that is the history's
 * entry before, and the button goes back to it as the back gesture would. Else (opened from
 * another conversation, a link, a notification, a reload of a deep address) `parent` takes
 * this entry's place.
 */
export function back(parent: string): void {
  const { from } = entryState();
  const path = (to: string) => new URL(to, 'http://x').pathname;
  if (from && (from === parent || path(from) === window.location.pathname)) window.history.back();
  else navigate(parent, { replace: true });
}

/** `location` with its query parameters changed: a string sets one, null removes it. */
export function withQuery(location: string, changes: Record<string, string | null>): string {
  const url = new URL(location, 'http://x');
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  return url.pathname + url.search;
}

/** An anchor's click handler that navigates in-app unless a modifier asks for a new tab. */
export function onLinkClick(to: string) {
  return (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
}

/** The routes of the app, parsed from a path. */
export type Route =
  | { name: 'signin'; next: string | null }
  | { name: 'signup'; next: string | null }
  | { name: 'home' }
  | { name: 'invite'; token: string }
  | { name: 'join'; workspaceId: string }
  | { name: 'forgot-password' }
  | { name: 'reset-password'; token: string }
  | { name: 'verify-email'; token: string }
  | { name: 'confirm-email'; token: string }
  | { name: 'workspace'; workspaceId: string; cid: string | null; page?: 'people' | 'activity' | 'notes' }
  | { name: 'not-found' };

export function parseRoute(location: string): Route {
  const url = new URL(location, 'http://x');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const next = url.searchParams.get('next');
  const safeNext = next?.startsWith('/') && !next.startsWith('//') ? next : null;
  if (parts.length === 0) return { name: 'home' };
  if (parts[0] === 'signin' && parts.length === 1) return { name: 'signin', next: safeNext };
  if (parts[0] === 'signup' && parts.length === 1) return { name: 'signup', next: safeNext };
  if (parts[0] === 'invite' && parts[1] && parts.length === 2) return { name: 'invite', token: parts[1] };
  if (parts[0] === 'join' && parts[1] && parts.length === 2) return { name: 'join', workspaceId: parts[1] };
  if (parts.length === 1 && parts[0] === 'forgot-password') return { name: 'forgot-password' };
  // Links mailed by the server: /reset-password?token=…, /verify-email?token=…, /confirm-email?token=…
  const token = url.searchParams.get('token') ?? '';
  if (parts.length === 1 && parts[0] === 'reset-password') return { name: 'reset-password', token };
  if (parts.length === 1 && parts[0] === 'verify-email') return { name: 'verify-email', token };
  if (parts.length === 1 && parts[0] === 'confirm-email') return { name: 'confirm-email', token };
  if (parts[0] === 'w' && parts[1]) {
    if (parts.length === 2) return { name: 'workspace', workspaceId: parts[1], cid: null };
    if (parts[2] === 'people' && parts.length === 3)
      return { name: 'workspace', workspaceId: parts[1], cid: null, page: 'people' };
    if (parts[2] === 'activity' && parts.length === 3)
      return { name: 'workspace', workspaceId: parts[1], cid: null, page: 'activity' };
    if (parts[2] === 'notes' && parts.length === 3)
      return { name: 'workspace', workspaceId: parts[1], cid: null, page: 'notes' };
    if (parts[2] === 'c' && parts[3] && parts.length === 4)
      return { name: 'workspace', workspaceId: parts[1], cid: parts[3] };
  }
  return { name: 'not-found' };
}

/** What names a workspace in its URLs: its slug (`/w/acme`) when it has one, else its id. */
export const workspaceKey = (w: { id: string; slug?: string | null }) => w.slug ?? w.id;

/** Whether a `/w/<key>` names the workspace by id (else by slug). */
export const isWorkspaceId = (key: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(key);

/**
 * One workspace opened under two names (`/w/<id>`, then `/w/<slug>` once its slug is known, or a
 * slug just set) must stay one mounted screen, not reconnect: each name maps to the name it was
 * first opened by. Filled in as workspaces open (use-workspace-client.ts) and slugs change.
 */
const openedAs = new Map<string, string>();

/** The name a workspace was first opened by, for any of its names. */
export const stableWorkspaceKey = (key: string) => openedAs.get(key) ?? key;

/** Remember that `names` (id, slug) are one workspace, opened as `key`. */
export function aliasWorkspace(key: string, names: readonly (string | null | undefined)[]): void {
  const stable = stableWorkspaceKey(key);
  for (const n of names) if (n) openedAs.set(n, stable);
}

/** The People page of a workspace. */
export const peoplePath = (workspaceId: string) => `/w/${encodeURIComponent(workspaceId)}/people`;
/** The Activity page (the inbox) of a workspace. */
export const activityPath = (workspaceId: string) => `/w/${encodeURIComponent(workspaceId)}/activity`;
export const notesPath = (workspaceId: string) => `/w/${encodeURIComponent(workspaceId)}/notes`;

/** The path of a workspace, or of one conversation in it. */
export const workspacePath = (workspaceId: string, cid?: string | null) =>
  `/w/${encodeURIComponent(workspaceId)}${cid ? `/c/${encodeURIComponent(cid).replace(/%3A/g, ':')}` : ''}`;

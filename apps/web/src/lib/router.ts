/**
 * A small history router: the path is state, `navigate` pushes (or replaces) it, and links
 * are ordinary anchors whose clicks are intercepted. The app has a handful of routes; a
 * routing library would be more code than the routes themselves.
 */
import { type MouseEvent, useSyncExternalStore } from 'react';

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

/** Go to `to` (a same-origin path). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
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

/**
 * What the app needs to open without a network, kept in localStorage: the signed-in account,
 * its workspaces, and for each workspace opened here the app's API key and the user id the
 * chat client stores its state under. Never a token or a password: the chat token is asked for
 * again (with the session cookie) once the server answers, and until then the chat client shows
 * what it stored (channels, recent messages, unsent messages: @parley/client's persistence).
 *
 * "The server said you are signed out" (a 401, or no account) forgets all of it; "the server
 * could not be reached" (no network, or a proxy's 5xx while the server is down) keeps the app
 * open on what is kept here.
 */
import type { Account, Workspace } from '@parley/protocol';
import { ApiError } from './api.js';

const KEY = 'parley:offline';

/** A workspace as it was last opened here. */
export interface KeptWorkspace {
  workspace: Workspace;
  api_key: string;
  user_id: string;
}

interface Kept {
  account: Account | null;
  workspaces: Workspace[] | null;
  opened: Record<string, KeptWorkspace>;
}

function read(): Kept {
  try {
    const raw = localStorage.getItem(KEY);
    const kept = raw ? (JSON.parse(raw) as Partial<Kept>) : {};
    return { account: kept.account ?? null, workspaces: kept.workspaces ?? null, opened: kept.opened ?? {} };
  } catch {
    return { account: null, workspaces: null, opened: {} };
  }
}

function write(change: (kept: Kept) => Kept): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(change(read())));
  } catch {
    // storage refused (private mode, full): the app just cannot start offline
  }
}

/** Whether an error means the server could not be reached, as opposed to an answer from it. */
export function unreachable(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);
}

/** The account last signed in here (kept only while signed in). */
export const keptAccount = (): Account | null => read().account;

export function keepAccount(account: Account): void {
  write((k) =>
    // Another account signing in here starts afresh: nothing of the last one is kept for it.
    k.account && k.account.id !== account.id ? { account, workspaces: null, opened: {} } : { ...k, account },
  );
}

/** Signed out (by the user, or the server said so): nothing is kept. */
export function forgetKept(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {}
}

export const keptWorkspaces = (): Workspace[] | null => read().workspaces;

export function keepWorkspaces(workspaces: Workspace[]): void {
  write((k) => ({ ...k, workspaces }));
}

/** A workspace opened here before, by any name its address used (id or slug). */
export function keptWorkspace(key: string): KeptWorkspace | null {
  const { opened } = read();
  return opened[key] ?? Object.values(opened).find((o) => o.workspace.slug === key) ?? null;
}

export function keepWorkspace(entry: KeptWorkspace): void {
  write((k) => ({ ...k, opened: { ...k.opened, [entry.workspace.id]: entry } }));
}

/** No longer a member (left, removed): not opened offline again. */
export function forgetWorkspace(id: string): void {
  write((k) => {
    const { [id]: _gone, ...opened } = k.opened;
    return { ...k, opened, workspaces: k.workspaces?.filter((w) => w.id !== id) ?? null };
  });
}

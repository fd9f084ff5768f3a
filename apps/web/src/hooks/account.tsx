/**
 * The signed-in account (or none), loaded once from `GET /v1/auth/session` and shared through
 * context. Sign-in, sign-up and sign-out update it; a 401 anywhere means "signed out".
 *
 * When the server cannot be reached at start (no network: an installed app opened offline),
 * the account kept from the last visit stands in (`offline: true`, lib/offline.ts), so the app
 * opens on what it stored; the session is read again as soon as the network is back.
 */
import { type ChatClient, keepLoading } from '@parley/client';
import type { Account } from '@parley/protocol';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { accounts } from '../lib/api.js';
import { forgetPushSubscriptions } from '../lib/desktop-notify.js';
import { forgetKept, keepAccount, keptAccount, unreachable } from '../lib/offline.js';
import { navigate } from '../lib/router.js';

type AccountState =
  | { status: 'loading'; account: null }
  | { status: 'signed-out'; account: null }
  | {
      status: 'signed-in';
      account: Account;
      /** The server was not reached: this is the account kept from the last visit. */
      offline?: boolean;
    };

interface AccountContextValue {
  state: AccountState;
  /** Record the account a sign-in or sign-up returned. */
  signedIn(account: Account): void;
  signOut(): Promise<void>;
  /** End every session of the account, this one included. */
  signOutEverywhere(): Promise<void>;
  /** Drop the account after the server said the session is gone (401). */
  lost(): void;
}

const AccountContext = createContext<AccountContextValue | null>(null);

export function AccountProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AccountState>({ status: 'loading', account: null });
  const current = useRef(state);
  current.current = state;

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      accounts.me().then((account) => {
        if (cancelled) return;
        if (account) keepAccount(account);
        else forgetKept();
        setState(account ? { status: 'signed-in', account } : { status: 'signed-out', account: null });
      });
    const failed = (e: unknown) => {
      if (cancelled) return;
      const kept = keptAccount();
      if (unreachable(e) && kept) {
        // Offline: open on what this device kept, and ask again once the network is back.
        setState({ status: 'signed-in', account: kept, offline: true });
        return;
      }
      // The server is unreachable (or failing) and nothing is kept: the sign-in screen.
      console.warn('Could not load the account', e);
      setState({ status: 'signed-out', account: null });
    };
    // A session read lost on the network (a network coming up, a proxy's 503 while the server
    // restarts) is read again after 1, 2, 4… 30 s: a signed-in account then opens by itself.
    const stop = keepLoading(load, { retryable: unreachable, onError: failed });
    const again = () => {
      const s = current.current;
      if (s.status === 'signed-in' && s.offline) void load().catch(failed);
    };
    window.addEventListener('online', again);
    return () => {
      cancelled = true;
      stop();
      window.removeEventListener('online', again);
    };
  }, []);

  const signedIn = useCallback((account: Account) => {
    keepAccount(account);
    setState({ status: 'signed-in', account });
  }, []);
  const lost = useCallback(() => {
    forgetKept();
    setState({ status: 'signed-out', account: null });
  }, []);
  const signOut = useCallback(async () => {
    forgetKept();
    await accounts.signOut().catch(() => {});
    setState({ status: 'signed-out', account: null });
  }, []);

  const signOutEverywhere = useCallback(async () => {
    forgetKept();
    await accounts.signOutEverywhere().catch(() => {});
    setState({ status: 'signed-out', account: null });
  }, []);

  const value = useMemo(
    () => ({ state, signedIn, signOut, signOutEverywhere, lost }),
    [state, signedIn, signOut, signOutEverywhere, lost],
  );
  return <AccountContext.Provider value={value}>{children}</AccountContext.Provider>;
}

/**
 * Sign out from inside a workspace: close the chat connection first. Signing out ends the
 * workspace's chat token on the server and closes its socket; a client still connected would
 * take that for an expired token and ask for a new one, which fails (a 401 in the console).
 */
export async function leave(client: ChatClient, signOut: () => Promise<void>): Promise<void> {
  // This browser stops getting the workspace's pushes (while the token still works).
  await forgetPushSubscriptions(client).catch(() => {});
  await client.disconnectUser().catch(() => {});
  await signOut();
  navigate('/signin');
}

export function useAccount(): AccountContextValue {
  const ctx = useContext(AccountContext);
  if (!ctx) throw new Error('useAccount needs <AccountProvider>');
  return ctx;
}

/**
 * The signed-in account (or none), loaded once from `GET /v1/auth/session` and shared through
 * context. Sign-in, sign-up and sign-out update it; a 401 anywhere means "signed out".
 */
import type { ChatClient } from '@parley/client';
import type { Account } from '@parley/protocol';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { accounts } from '../lib/api.js';
import { forgetPushSubscriptions } from '../lib/desktop-notify.js';
import { navigate } from '../lib/router.js';

type AccountState =
  | { status: 'loading'; account: null }
  | { status: 'signed-out'; account: null }
  | { status: 'signed-in'; account: Account };

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

  useEffect(() => {
    let cancelled = false;
    accounts
      .me()
      .then((account) => {
        if (!cancelled) setState(account ? { status: 'signed-in', account } : { status: 'signed-out', account: null });
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        // The server is unreachable (or failing): the sign-in screen.
        console.warn('Could not load the account', e);
        setState({ status: 'signed-out', account: null });
      });
    return () => {
      cancelled = true;
    };
  }, []);

  const signedIn = useCallback((account: Account) => setState({ status: 'signed-in', account }), []);
  const lost = useCallback(() => setState({ status: 'signed-out', account: null }), []);
  const signOut = useCallback(async () => {
    await accounts.signOut().catch(() => {});
    setState({ status: 'signed-out', account: null });
  }, []);

  const signOutEverywhere = useCallback(async () => {
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

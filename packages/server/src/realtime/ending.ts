/**
 * What ended, said to the gateway so it closes the sockets concerned. A module of its own:
 * realtime knows no feature, so the accounts feature's chat sessions (which decide what ends)
 * name this type here, below them, as they do `Opening`.
 *
 * Account sessions (sign-out), or one account's place in one workspace — or, with `user`, the
 * user itself (deleted): then every socket of theirs closes, whatever token opened it (an
 * app-signed one too), with `reason`.
 */
export type Ending = { sessions: string[] } | { appId: string; userId: string; user?: true; reason?: string };

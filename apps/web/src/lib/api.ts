/**
 * The accounts API of the bundled web app: sign-up and sign-in (an httpOnly session cookie),
 * workspaces, invites, and the workspace session that hands out a chat token. Same origin,
 * cookies included. Every state-changing call sends a JSON body (`{}` when it has no fields):
 * the server refuses anything else, which is its CSRF defence.
 */
import type {
  Account,
  AccountSessionsResponse,
  AuthOptions,
  CreatedInvite,
  EmailVisibility,
  InvitePreview,
  JoinPolicy,
  OidcStartResponse,
  SignInResponse,
  TwoFactorChallenge,
  TwoFactorSetup,
  TwoFactorStatus,
  Workspace,
  WorkspaceMember,
  WorkspaceRole,
  WorkspaceSession,
} from '@parley/protocol';

/** An error answered by the server (`{"error":{"code","message"}}`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: object): Promise<T> {
  const json = method === 'POST' || method === 'PATCH';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'include',
      headers: json
        ? { 'content-type': 'application/json', accept: 'application/json' }
        : { accept: 'application/json' },
      ...(json ? { body: JSON.stringify(body ?? {}) } : {}),
    });
  } catch {
    throw new ApiError('DISCONNECTED', 'Cannot reach the server. Check your connection and try again.', 0);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return parsed as T;
  const err = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
  throw new ApiError(err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${res.status}`, res.status, err?.details);
}

const enc = encodeURIComponent;

export const accounts = {
  /** The signed-in account, or null: "signed out" is an answer here, not a 401. */
  me: () => call<{ account: Account | null }>('GET', '/v1/auth/session').then((r) => r.account),
  signUp: (body: { name: string; email: string; password: string }) =>
    call<{ account: Account }>('POST', '/v1/auth/signup', body).then((r) => r.account),
  /** The account, or — with two-factor sign-in on — a challenge for `signInSecondStep`. */
  signIn: (body: { email: string; password: string }): Promise<Account | TwoFactorChallenge> =>
    call<SignInResponse>('POST', '/v1/auth/signin', body).then((r) => ('account' in r ? r.account : r)),
  /** The second step: the challenge and a TOTP or backup code. 401 `wrong_code` / `invalid_challenge`. */
  signInSecondStep: (challenge: string, code: string) =>
    call<{ account: Account }>('POST', '/v1/auth/signin/2fa', { challenge, code }).then((r) => r.account),
  signOut: () => call<{ ok: true }>('POST', '/v1/auth/signout', {}),
  /** Ends every session of the account, this one included. */
  signOutEverywhere: () => call<{ ok: true }>('POST', '/v1/auth/signout-everywhere', {}),
  /** Every other session of the account ends; this one stays. */
  signOutOthers: () => call<{ ok: true }>('POST', '/v1/auth/signout-others', {}),
  /** The account's live sessions, the current one marked. */
  sessions: () => call<AccountSessionsResponse>('GET', '/v1/auth/sessions'),
  /** Sign out one session of the account (its sockets close at once). */
  endSession: (id: string) => call<{ ok: true }>('DELETE', `/v1/auth/sessions/${enc(id)}`),

  twoFactor: () => call<TwoFactorStatus>('GET', '/v1/auth/2fa'),
  /** 403 for a wrong password: a new secret, its otpauth URI and QR code (not in force yet). */
  setupTwoFactor: (password: string) => call<TwoFactorSetup>('POST', '/v1/auth/2fa/setup', { password }),
  /** Turns it on with a first code; the backup codes, shown only now. */
  enableTwoFactor: (code: string) =>
    call<{ backup_codes: string[] }>('POST', '/v1/auth/2fa/enable', { code }).then((r) => r.backup_codes),
  disableTwoFactor: (proof: { password: string } | { code: string }) =>
    call<{ ok: true }>('POST', '/v1/auth/2fa/disable', proof),
  newBackupCodes: (proof: { password: string } | { code: string }) =>
    call<{ backup_codes: string[] }>('POST', '/v1/auth/2fa/backup-codes', proof).then((r) => r.backup_codes),

  /** 403 FORBIDDEN for a wrong current password; every other session of the account ends. */
  changePassword: (body: { current_password: string; new_password: string }) =>
    call<{ ok: true }>('POST', '/v1/auth/password', body),

  /** Whether this server sends mail, requires a verified email, and offers an OpenID Connect provider. */
  options: () => call<AuthOptions>('GET', '/v1/auth/options'),
  /** The provider's authorization URL to navigate to; 503 UNAVAILABLE while it cannot be reached. */
  oidcStart: (returnTo: string) =>
    call<OidcStartResponse>('POST', '/v1/auth/oidc/start', { return_to: returnTo }).then((r) => r.authorization_url),
  /** Always ok, whether the email has an account or not. */
  forgotPassword: (email: string) => call<{ ok: true }>('POST', '/v1/auth/password/forgot', { email }),
  /** 403 FORBIDDEN (`invalid_token`) for a bad link; 400 for a password the policy refuses. Ends every session. */
  resetPassword: (token: string, newPassword: string) =>
    call<{ ok: true }>('POST', '/v1/auth/password/reset', { token, new_password: newPassword }),
  verifyEmail: (token: string) => call<{ ok: true }>('POST', '/v1/auth/email/verify', { token }),
  resendVerification: () => call<{ ok: true }>('POST', '/v1/auth/email/verification', {}),
  /** Mails a confirmation link to the new address; the email changes once it is followed. */
  changeEmail: (newEmail: string, password: string) =>
    call<{ ok: true }>('POST', '/v1/auth/email/change', { new_email: newEmail, password }),
  confirmEmail: (token: string) => call<{ ok: true }>('POST', '/v1/auth/email/confirm', { token }),

  workspaces: () => call<{ workspaces: Workspace[] }>('GET', '/v1/workspaces').then((r) => r.workspaces),
  workspace: (id: string) =>
    call<{ workspace: Workspace }>('GET', `/v1/workspaces/${enc(id)}`).then((r) => r.workspace),
  /** A workspace of the caller by its URL slug (`/w/acme`); 404 when none, or not a member. */
  workspaceBySlug: (slug: string) =>
    call<{ workspace: Workspace }>('GET', `/v1/workspaces/by-slug/${enc(slug)}`).then((r) => r.workspace),
  createWorkspace: (name: string) =>
    call<{ workspace: Workspace }>('POST', '/v1/workspaces', { name }).then((r) => r.workspace),
  /** Rename, change the join policy, require two-factor sign-in, or show emails to members (owners and admins); the URL slug (owners). */
  updateWorkspace: (
    id: string,
    body: {
      name?: string;
      join_policy?: JoinPolicy;
      join_domain?: string | null;
      require_two_factor?: boolean;
      email_visibility?: EmailVisibility;
      slug?: string | null;
    },
  ) => call<{ workspace: Workspace }>('PATCH', `/v1/workspaces/${enc(id)}`, body).then((r) => r.workspace),
  /** A chat token for this workspace (12 hours) and the app's API key; 403 `two_factor_required` where it is required. */
  session: (id: string) => call<WorkspaceSession>('POST', `/v1/workspaces/${enc(id)}/session`, {}),
  members: (id: string) =>
    call<{ members: WorkspaceMember[] }>('GET', `/v1/workspaces/${enc(id)}/members`).then((r) => r.members),
  /** Change a member's role (owners); 409 CONFLICT for the last owner. */
  setRole: (id: string, accountId: string, role: WorkspaceRole) =>
    call<{ member: WorkspaceMember }>('PATCH', `/v1/workspaces/${enc(id)}/members/${enc(accountId)}`, { role }).then(
      (r) => r.member,
    ),
  /** Remove a member, or leave (your own account id); 409 CONFLICT for the last owner. */
  removeMember: (id: string, accountId: string) =>
    call<{ ok: true }>('DELETE', `/v1/workspaces/${enc(id)}/members/${enc(accountId)}`),

  /** Deactivate (`active: false`) or reactivate a member; their sockets close at once on deactivation. */
  setMemberActive: (id: string, accountId: string, active: boolean) =>
    call<{ member: WorkspaceMember }>(
      'POST',
      `/v1/workspaces/${enc(id)}/members/${enc(accountId)}/${active ? 'reactivate' : 'deactivate'}`,
      {},
    ).then((r) => r.member),

  /** With `guest`, a guest invite: its channels and when the guest's posting ends. */
  createInvite: (
    id: string,
    body: {
      expires_in_hours?: number;
      max_uses?: number;
      guest?: { channels: string[]; expires_at: string };
      /** Also mail the link to this address. */
      email?: string;
    } = {},
  ) => call<CreatedInvite>('POST', `/v1/workspaces/${enc(id)}/invites`, body),
  previewInvite: (token: string) =>
    call<{ invite: InvitePreview }>('GET', `/v1/invites/${enc(token)}`).then((r) => r.invite),
  acceptInvite: (token: string) =>
    call<{ workspace: Workspace }>('POST', `/v1/invites/${enc(token)}/accept`, {}).then((r) => r.workspace),
};

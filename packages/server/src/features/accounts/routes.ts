/**
 * Accounts of the bundled team web app: sign-up/sign-in with a session cookie, workspaces
 * (apps) and their members and invites. Every route here but sign-up, sign-in and the invite
 * preview needs the session cookie (`config: { auth: 'account' }`), never an API key.
 * Every state-changing route needs a JSON body (`{}` when it has no fields): see
 * `accountRequestGuard` for why that is the CSRF defence.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccountResponse,
  AccountSessionParams,
  AccountSessionsResponse,
  AuthOptions,
  AuthSessionResponse,
  BackupCodesResponse,
  ChangeEmailBody,
  ChangePasswordBody,
  CreatedInvite,
  CreateInviteBody,
  CreateWorkspaceBody,
  EmptyBody,
  ErrorBody,
  ForgotPasswordBody,
  InviteParams,
  InvitePreviewResponse,
  InvitesResponse,
  InviteTokenParams,
  MailTokenBody,
  OkResponse,
  PASSWORD_MIN_LENGTH,
  ResetPasswordBody,
  SignInBody,
  SignInResponse,
  SignInTwoFactorBody,
  SignUpBody,
  TwoFactorEnableBody,
  TwoFactorProofBody,
  TwoFactorSetup,
  TwoFactorSetupBody,
  TwoFactorStatus,
  UpdateWorkspaceBody,
  UpdateWorkspaceMemberBody,
  WorkspaceMemberParams,
  WorkspaceMemberResponse,
  WorkspaceMembersResponse,
  WorkspaceParams,
  WorkspaceResponse,
  WorkspaceSession,
  WorkspaceSlugParams,
  WorkspacesResponse,
} from '@parley/protocol';
import { ApiError, notFound } from '../../platform/errors.js';
import { accountOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { accessWorkspace, checkManager, seesMemberEmails } from './access.js';
import {
  acceptInvite,
  changePassword,
  createInvite,
  createWorkspace,
  loadAccount,
  openWorkspaceSession,
  removeMember,
  revokeInvite,
  setMemberActive,
  setMemberRole,
  signIn,
  signUp,
  updateWorkspace,
} from './actions.js';
import { endSessions } from './chat-sessions.js';
import {
  presentAccount,
  presentInvite,
  presentMember,
  presentPreview,
  presentSession,
  presentWorkspace,
} from './present.js';
import {
  accountById,
  activeInvites,
  inviteByTokenHash,
  inviteProblem,
  membershipBySlug,
  membersOf,
  workspacesOf,
} from './queries.js';
import {
  confirmEmailChange,
  requestEmailChange,
  requestPasswordReset,
  resendVerification,
  resetPassword,
  verifyEmail,
} from './recovery.js';
import {
  accountRequestGuard,
  clearSessionCookie,
  liveSessionsOf,
  resolveSession,
  setSessionCookie,
  sha256,
} from './sessions.js';
import {
  completeTwoFactorSignIn,
  disableTwoFactor,
  enableTwoFactor,
  regenerateBackupCodes,
  startTwoFactorSetup,
  twoFactorStatus,
} from './two-factor.js';

const account = { config: { auth: 'account' as const } };
const session = [{ session: [] }];
// 403: any write here can be refused by the CSRF guard (a foreign or missing Origin).
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 415: ErrorBody };
const scoped = { ...errors, 404: ErrorBody };

export function accountRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Runs before authentication and parsing, on this plugin's routes only.
    app.addHook('onRequest', accountRequestGuard(svc.config.allowedOrigins));
    // Answers here carry session cookies and workspace tokens: no cache may keep them.
    app.addHook('onSend', async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
    });

    // ---- accounts and sessions -----------------------------------------------------------

    app.post(
      '/v1/auth/signup',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Create an account (email + password) and sign in: sets the parley_session cookie',
          description:
            'Emails are unique case-insensitively (409 CONFLICT when taken). Passwords have 10 to 200 characters ' +
            'and pass the policy (400 VALIDATION_ERROR with details.reason `breached` or `email`). A link to verify ' +
            'the email is mailed; when the server requires verification (PARLEY_REQUIRE_EMAIL_VERIFICATION), no ' +
            'cookie is set until it is followed.',
          security: [],
          body: SignUpBody,
          response: { 200: AccountResponse, ...errors, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const { account, token } = await signUp(svc, req.body, req);
        if (token) setSessionCookie(req, reply, token);
        return { account: presentAccount(account) };
      },
    );

    app.post(
      '/v1/auth/signin',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Sign in with email and password: sets the parley_session cookie, or asks for a second step',
          description:
            'An unknown email and a wrong password get the same 401 UNAUTHORIZED, after the same work. ' +
            '429 RATE_LIMITED past the attempts per IP or per email; 423 ACCOUNT_LOCKED (details.retry_after_ms) ' +
            'after repeated failures; 403 FORBIDDEN with details.reason `email_unverified` when verification is required. ' +
            'With two-factor sign-in on, the right password answers {"two_factor_required":true,"challenge","expires_at"} ' +
            'and sets no cookie: send the challenge and a code to POST /v1/auth/signin/2fa within 5 minutes.',
          security: [],
          body: SignInBody,
          response: { 200: SignInResponse, ...errors, 423: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const r = await signIn(svc, req.body, req);
        if ('challenge' in r) return r.challenge;
        setSessionCookie(req, reply, r.token);
        return { account: presentAccount(r.account) };
      },
    );

    app.post(
      '/v1/auth/signin/2fa',
      {
        schema: {
          tags: ['accounts'],
          summary: "Sign in's second step: the challenge and a TOTP or backup code; sets the parley_session cookie",
          description:
            'A TOTP code works once (not again within its 30 seconds); a backup code works once. 401 UNAUTHORIZED with ' +
            'details.reason `wrong_code` (counted as a failed sign-in) or `invalid_challenge` (unknown, used or expired: ' +
            'sign in again). 423 ACCOUNT_LOCKED and 429 RATE_LIMITED as for sign-in.',
          security: [],
          body: SignInTwoFactorBody,
          response: { 200: AccountResponse, ...errors, 423: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const { account, token } = await completeTwoFactorSignIn(svc, req.body, req);
        setSessionCookie(req, reply, token);
        return { account: presentAccount(account) };
      },
    );

    // ---- two-factor sign-in: setup and management ------------------------------------------

    app.get(
      '/v1/auth/2fa',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Whether two-factor sign-in is on, and how many backup codes are left',
          security: session,
          response: { 200: TwoFactorStatus, 401: ErrorBody },
        },
      },
      async (req) => twoFactorStatus(svc, accountOf(req).accountId),
    );

    app.post(
      '/v1/auth/2fa/setup',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Start setting up two-factor sign-in: a new TOTP secret, its otpauth URI and QR code',
          description:
            'Needs the password (403 FORBIDDEN when wrong). Nothing changes at sign-in until POST /v1/auth/2fa/enable ' +
            'confirms the secret with a first code. 409 CONFLICT when two-factor sign-in is on already.',
          security: session,
          body: TwoFactorSetupBody,
          response: { 200: TwoFactorSetup, ...errors, 409: ErrorBody, 429: ErrorBody },
        },
      },
      async (req) => startTwoFactorSetup(svc, accountOf(req), req.body.password),
    );

    app.post(
      '/v1/auth/2fa/enable',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Turn two-factor sign-in on with a first code from the app; answers the backup codes, once',
          description:
            '403 FORBIDDEN (details.reason `wrong_code`) for a wrong code; 409 CONFLICT without a setup to confirm. ' +
            'The ten backup codes are shown only in this answer; each works once.',
          security: session,
          body: TwoFactorEnableBody,
          response: { 200: BackupCodesResponse, ...errors, 409: ErrorBody, 429: ErrorBody },
        },
      },
      async (req) => ({ backup_codes: await enableTwoFactor(svc, accountOf(req), req.body.code) }),
    );

    app.post(
      '/v1/auth/2fa/disable',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Turn two-factor sign-in off, with the password or a current code',
          description:
            '403 FORBIDDEN (details.reason `wrong_code`) when neither is right. The backup codes are deleted.',
          security: session,
          body: TwoFactorProofBody,
          response: { 200: OkResponse, ...errors, 429: ErrorBody },
        },
      },
      async (req) => {
        await disableTwoFactor(svc, accountOf(req), req.body);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/2fa/backup-codes',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'New backup codes (the old ones stop working), with the password or a current code',
          description:
            '403 FORBIDDEN (details.reason `wrong_code`) when neither is right; 409 CONFLICT when 2FA is off.',
          security: session,
          body: TwoFactorProofBody,
          response: { 200: BackupCodesResponse, ...errors, 409: ErrorBody, 429: ErrorBody },
        },
      },
      async (req) => ({ backup_codes: await regenerateBackupCodes(svc, accountOf(req), req.body) }),
    );

    // ---- sessions ------------------------------------------------------------------------

    app.get(
      '/v1/auth/sessions',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: "The account's live sessions: browser, system, device, IP, created and last active",
          description:
            'Most recently active first. last_seen_at is kept to the minute. A session ends after idle_days without ' +
            'a request (PARLEY_SESSION_IDLE_DAYS), and 30 days after sign-in at the latest.',
          security: session,
          response: { 200: AccountSessionsResponse, 401: ErrorBody },
        },
      },
      async (req) => {
        const me = accountOf(req);
        const rows = await liveSessionsOf(svc, me.accountId);
        return { sessions: rows.map((r) => presentSession(r, me.sessionId)), idle_days: svc.config.sessionIdleDays };
      },
    );

    app.delete(
      '/v1/auth/sessions/:id',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Sign out one session of the account (this one too: its cookie is cleared)',
          description:
            "Its workspace tokens stop working at once and its sockets are closed (4001). 404 NOT_FOUND for an id that is not a live session of the caller's account.",
          security: session,
          params: AccountSessionParams,
          response: { 200: OkResponse, ...scoped },
        },
      },
      async (req, reply) => {
        const me = accountOf(req);
        const ended = await endSessions(svc, { sessionId: req.params.id, accountId: me.accountId });
        if (ended.length === 0) throw notFound('Session');
        if (req.params.id === me.sessionId) clearSessionCookie(req, reply);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/signout-others',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Sign out every other session of the account; this one stays',
          description: 'Their workspace tokens stop working at once and their sockets are closed (4001).',
          security: session,
          body: EmptyBody,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        const me = accountOf(req);
        await endSessions(svc, { accountId: me.accountId, except: me.sessionId });
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/signout',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Sign out this session and clear its cookie',
          description:
            'Workspace tokens this session was given stop working at once, and the sockets opened with them are closed (4001).',
          security: session,
          body: EmptyBody,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req, reply) => {
        await endSessions(svc, { sessionId: accountOf(req).sessionId });
        clearSessionCookie(req, reply);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/signout-everywhere',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Sign out every session of the account, this one included',
          description:
            'Every workspace token the account was given stops working at once, and the sockets opened with them are closed (4001).',
          security: session,
          body: EmptyBody,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req, reply) => {
        await endSessions(svc, { accountId: accountOf(req).accountId });
        clearSessionCookie(req, reply);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/password',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Change the password; every other session of the account is signed out',
          description:
            '403 FORBIDDEN when current_password is wrong. The other sessions end as with sign-out: their ' +
            'workspace tokens stop working at once and their sockets are closed (4001). This session stays.',
          security: session,
          body: ChangePasswordBody,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await changePassword(svc, accountOf(req), req.body);
        return { ok: true as const };
      },
    );

    app.get(
      '/v1/auth/me',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'The signed-in account',
          security: session,
          response: { 200: AccountResponse, 401: ErrorBody },
        },
      },
      async (req) => ({ account: presentAccount(await loadAccount(svc, accountOf(req).accountId)) }),
    );

    app.get(
      '/v1/auth/session',
      {
        schema: {
          tags: ['accounts'],
          summary: 'The signed-in account, or null when signed out',
          description:
            'For pages that load before they know whether anyone is signed in: "not signed in" is an answer ' +
            '(`{"account":null}`, 200), not an error, so a signed-out visit logs no failed request.',
          security: [],
          response: { 200: AuthSessionResponse },
        },
      },
      async (req) => {
        const s = await resolveSession(svc, req);
        const row = s && (await accountById(svc.db, s.accountId));
        return { account: row ? presentAccount(row) : null };
      },
    );

    // ---- mail: password reset, verification, change of email ------------------------------

    app.get(
      '/v1/auth/options',
      {
        schema: {
          tags: ['accounts'],
          summary:
            'What the sign-in pages need to know: whether mail is sent, whether verification is required, which OpenID Connect provider to offer',
          security: [],
          response: { 200: AuthOptions },
        },
      },
      async () => ({
        email_delivery: svc.mailer.delivery,
        email_verification_required: svc.config.requireEmailVerification,
        password_min_length: PASSWORD_MIN_LENGTH,
        oidc: svc.config.oidc ? { name: svc.config.oidc.name } : null,
      }),
    );

    app.post(
      '/v1/auth/password/forgot',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Mail a password-reset link (valid 30 minutes, once) if the email has an account',
          description:
            'Always {"ok":true}, whether the email has an account or not, answered before the look-up. ' +
            '429 RATE_LIMITED past the requests per IP or per address.',
          security: [],
          body: ForgotPasswordBody,
          response: { 200: OkResponse, ...errors, 429: ErrorBody },
        },
      },
      async (req) => {
        await requestPasswordReset(svc, req.body, req);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/password/reset',
      {
        schema: {
          tags: ['accounts'],
          summary: "Set a new password with a reset link's token; every session of the account ends",
          description:
            '403 FORBIDDEN (details.reason `invalid_token`) for an unknown, expired or used token. ' +
            '400 VALIDATION_ERROR (details.reason `breached`, `reused`, `email`) leaves the token usable. ' +
            'Does not sign in: sign in with the new password.',
          security: [],
          body: ResetPasswordBody,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await resetPassword(svc, req.body);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/email/verify',
      {
        schema: {
          tags: ['accounts'],
          summary: "Verify an account's email with the token of the mailed link",
          description: '403 FORBIDDEN (details.reason `invalid_token`) for an unknown, expired or used token.',
          security: [],
          body: MailTokenBody,
          response: { 200: OkResponse, ...errors },
        },
      },
      async (req) => {
        await verifyEmail(svc, req.body.token);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/email/verification',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Mail the signed-in account a new verification link (nothing once verified)',
          security: session,
          body: EmptyBody,
          response: { 200: OkResponse, ...errors, 429: ErrorBody },
        },
      },
      async (req) => {
        await resendVerification(svc, accountOf(req), req);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/email/change',
      {
        ...account,
        schema: {
          tags: ['accounts'],
          summary: 'Ask to change the email: a link to confirm is mailed to the new address',
          description:
            '403 FORBIDDEN for a wrong password. The same {"ok":true} whether the new address is free or taken ' +
            '(a taken one is told so by mail); the old address gets a notice. The email changes when the link is followed.',
          security: session,
          body: ChangeEmailBody,
          response: { 200: OkResponse, ...errors, 429: ErrorBody },
        },
      },
      async (req) => {
        await requestEmailChange(svc, accountOf(req), req.body, req);
        return { ok: true as const };
      },
    );

    app.post(
      '/v1/auth/email/confirm',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Confirm a change of email with the token mailed to the new address',
          description:
            '403 FORBIDDEN (details.reason `invalid_token`) for an unknown, expired or used token; ' +
            '409 CONFLICT when another account took the address meanwhile.',
          security: [],
          body: MailTokenBody,
          response: { 200: OkResponse, ...errors, 409: ErrorBody },
        },
      },
      async (req) => {
        await confirmEmailChange(svc, req.body.token);
        return { ok: true as const };
      },
    );

    // ---- workspaces ----------------------------------------------------------------------

    app.post(
      '/v1/workspaces',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: 'Create a workspace (an app) with the caller as its owner',
          security: session,
          body: CreateWorkspaceBody,
          response: { 200: WorkspaceResponse, ...errors },
        },
      },
      async (req) => ({
        workspace: presentWorkspace(await createWorkspace(svc, accountOf(req).accountId, req.body.name)),
      }),
    );

    app.get(
      '/v1/workspaces',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: "The caller's workspaces, by name, with the caller's role in each",
          security: session,
          response: { 200: WorkspacesResponse, 401: ErrorBody },
        },
      },
      async (req) => ({ workspaces: (await workspacesOf(svc, accountOf(req).accountId)).map(presentWorkspace) }),
    );

    app.get(
      '/v1/workspaces/:id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: 'One workspace of the caller (404 when not a member)',
          security: session,
          params: WorkspaceParams,
          response: { 200: WorkspaceResponse, ...scoped },
        },
      },
      async (req) => ({
        workspace: presentWorkspace(await accessWorkspace(svc.db, accountOf(req).accountId, req.params.id)),
      }),
    );

    app.get(
      '/v1/workspaces/by-slug/:slug',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary:
            'One workspace of the caller by its URL slug (404 when there is none, or the caller is not a member)',
          description: 'What the web app asks to open `/w/<slug>`; the slug is compared in lower case.',
          security: session,
          params: WorkspaceSlugParams,
          response: { 200: WorkspaceResponse, ...scoped },
        },
      },
      async (req) => {
        const m = await membershipBySlug(svc.db, accountOf(req).accountId, req.params.slug.trim().toLowerCase());
        if (!m) throw notFound('Workspace');
        return { workspace: presentWorkspace(m) };
      },
    );

    app.patch(
      '/v1/workspaces/:id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: 'Rename a workspace, change its join policy (owners and admins) or its URL slug (owners)',
          description:
            '`slug`: 3–40 lowercase letters, digits and dashes, unique in the deployment (409 CONFLICT when taken); reserved words and id-shaped slugs are 400 VALIDATION_ERROR (`details.reason` `reserved`). `/w/<id>` keeps working after a slug is set.',
          security: session,
          params: WorkspaceParams,
          body: UpdateWorkspaceBody,
          response: { 200: WorkspaceResponse, 409: ErrorBody, ...scoped },
        },
      },
      async (req) => ({
        workspace: presentWorkspace(await updateWorkspace(svc, accountOf(req).accountId, req.params.id, req.body)),
      }),
    );

    app.post(
      '/v1/workspaces/:id/session',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: "A user token for the caller in this workspace's app (12 hours), with its API key",
          description: 'Only members get one: 404 NOT_FOUND for a workspace the caller does not belong to.',
          security: session,
          params: WorkspaceParams,
          body: EmptyBody,
          response: { 200: WorkspaceSession, ...scoped },
        },
      },
      async (req) => openWorkspaceSession(svc, accountOf(req), req.params.id),
    );

    // ---- members -------------------------------------------------------------------------

    app.get(
      '/v1/workspaces/:id/members',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary:
            "Members with their roles; emails are shown to owners and admins, and to members where the workspace's email_visibility is `members`; guests are refused (403)",
          security: session,
          params: WorkspaceParams,
          response: { 200: WorkspaceMembersResponse, ...scoped },
        },
      },
      async (req) => {
        const m = await accessWorkspace(svc.db, accountOf(req).accountId, req.params.id);
        // Guests never see the member directory (features/accounts/guests.ts).
        if (m.role === 'guest') throw new ApiError('FORBIDDEN', 'Guests cannot list the members of the workspace');
        const showEmail = seesMemberEmails(m);
        return { members: (await membersOf(svc.db, m.appId)).map((r) => presentMember(r, showEmail)) };
      },
    );

    app.patch(
      '/v1/workspaces/:id/members/:account_id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: "Change a member's role (owners only)",
          description: 'Demoting the last owner is refused with 409 CONFLICT.',
          security: session,
          params: WorkspaceMemberParams,
          body: UpdateWorkspaceMemberBody,
          response: { 200: WorkspaceMemberResponse, ...scoped, 409: ErrorBody },
        },
      },
      async (req) => {
        const { id, account_id } = req.params;
        const row = await setMemberRole(svc, accountOf(req).accountId, id, account_id, req.body.role);
        return { member: presentMember(row, true) };
      },
    );

    app.delete(
      '/v1/workspaces/:id/members/:account_id',
      {
        ...account,
        schema: {
          tags: ['workspaces'],
          summary: 'Remove a member (owners: anyone; admins: members) or leave (your own account_id)',
          description:
            'The last owner can neither leave nor be removed (409 CONFLICT). The removed account’s workspace ' +
            'tokens stop working at once and its sockets in this workspace are closed (4001); its messages stay.',
          security: session,
          params: WorkspaceMemberParams,
          response: { 200: OkResponse, ...scoped, 409: ErrorBody },
        },
      },
      async (req) => {
        await removeMember(svc, accountOf(req).accountId, req.params.id, req.params.account_id);
        return { ok: true as const };
      },
    );

    for (const [verb, active] of [
      ['deactivate', false],
      ['reactivate', true],
    ] as const)
      app.post(
        `/v1/workspaces/:id/members/:account_id/${verb}`,
        {
          ...account,
          schema: {
            tags: ['workspaces'],
            summary: active
              ? 'Reactivate a deactivated member (owners: anyone; admins: members)'
              : 'Deactivate a member: they keep their place and messages but cannot open the workspace (owners: anyone; admins: members)',
            description: active
              ? 'The member can open the workspace again, with the role they had. Reactivating an active member changes nothing.'
              : 'Their workspace tokens stop working at once and their sockets in this workspace are closed (4001); ' +
                'the workspace is NOT_FOUND to them until reactivated, and invites do not bring them back ' +
                '(403 FORBIDDEN, details.reason `deactivated`). Not yourself (403: leave instead); not the last ' +
                'active owner (409 CONFLICT). Deactivating twice changes nothing.',
            security: session,
            params: WorkspaceMemberParams,
            body: EmptyBody,
            response: { 200: WorkspaceMemberResponse, ...scoped, 409: ErrorBody },
          },
        },
        async (req) => {
          const { id, account_id } = req.params;
          const row = await setMemberActive(svc, accountOf(req).accountId, id, account_id, active);
          return { member: presentMember(row, true) };
        },
      );

    // ---- invites -------------------------------------------------------------------------

    app.post(
      '/v1/workspaces/:id/invites',
      {
        ...account,
        schema: {
          tags: ['invites'],
          summary: 'Create an invite link (owners and admins); its token is shown only here',
          description:
            'expires_in_hours: 1–720, default 168. max_uses: default 1 under the invite_only policy, unlimited under link.',
          security: session,
          params: WorkspaceParams,
          body: CreateInviteBody,
          response: { 200: CreatedInvite, ...scoped },
        },
      },
      async (req) => createInvite(svc, accountOf(req).accountId, req.params.id, req.body),
    );

    app.get(
      '/v1/workspaces/:id/invites',
      {
        ...account,
        schema: {
          tags: ['invites'],
          summary: 'Invites that can still be accepted, newest first (owners and admins)',
          security: session,
          params: WorkspaceParams,
          response: { 200: InvitesResponse, ...scoped },
        },
      },
      async (req) => {
        const m = await accessWorkspace(svc.db, accountOf(req).accountId, req.params.id);
        checkManager(m);
        const rows = await activeInvites(svc, m.appId, m.joinPolicy);
        return { invites: rows.map((r) => presentInvite(r.invite, r.inviterName)) };
      },
    );

    app.delete(
      '/v1/workspaces/:id/invites/:invite_id',
      {
        ...account,
        schema: {
          tags: ['invites'],
          summary: 'Revoke an invite (owners and admins)',
          security: session,
          params: InviteParams,
          response: { 200: OkResponse, ...scoped },
        },
      },
      async (req) => {
        await revokeInvite(svc, accountOf(req).accountId, req.params.id, req.params.invite_id);
        return { ok: true as const };
      },
    );

    app.get(
      '/v1/invites/:token',
      {
        schema: {
          tags: ['invites'],
          summary: 'Preview an invite before signing in: workspace and inviter names, and whether it is valid',
          description:
            '404 NOT_FOUND for unknown and revoked invites; expired and used-up ones answer valid: false with a reason.',
          security: [],
          params: InviteTokenParams,
          response: { 200: InvitePreviewResponse, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const row = await inviteByTokenHash(svc.db, sha256(req.params.token));
        if (!row || row.invite.revokedAt) throw notFound('Invite');
        const preview = {
          workspaceName: row.workspaceName,
          workspaceLogo: row.workspaceLogo,
          inviterName: row.inviterName,
          expiresAt: row.invite.expiresAt,
        };
        return { invite: presentPreview(preview, inviteProblem(row.invite, row.joinPolicy)) };
      },
    );

    app.post(
      '/v1/invites/:token/accept',
      {
        ...account,
        schema: {
          tags: ['invites'],
          summary: 'Join the workspace of an invite, as a member',
          description:
            '404 NOT_FOUND for unknown or revoked invites; 403 FORBIDDEN with details.reason `expired` or `used_up`. ' +
            'A member accepting again gets the workspace back and uses nothing.',
          security: session,
          params: InviteTokenParams,
          body: EmptyBody,
          response: { 200: WorkspaceResponse, ...scoped },
        },
      },
      async (req) => ({
        workspace: presentWorkspace(await acceptInvite(svc, accountOf(req).accountId, req.params.token)),
      }),
    );
  };
}

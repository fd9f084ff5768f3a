/**
 * Accounts of the bundled team web app: email + password sign-in with a session cookie,
 * workspaces (each one an app), invites and workspace members. A signed-in account asks for
 * a workspace session and gets an ordinary user token of that workspace's app, so the chat
 * API itself never sees accounts.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Timestamp, UserId, Uuid } from './ids.js';
import { OidcOption } from './oidc.js';
import { NameText, SAFE_TEXT_PATTERN, SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Shortest password accepted, in characters (Unicode code points). */
export const PASSWORD_MIN_LENGTH = 10;
/** Longest password accepted, in characters: argon2 hashes any length, this bounds the work. */
export const PASSWORD_MAX_LENGTH = 200;
/** Name of the httpOnly cookie that carries the account session. */
export const SESSION_COOKIE = 'parley_session';
/** How long a session (and its cookie) lives, in seconds: 30 days. */
export const SESSION_TTL_SECONDS = 30 * 24 * 3600;
/** How long a workspace user token lives, in seconds: 12 hours. */
export const WORKSPACE_TOKEN_TTL_SECONDS = 12 * 3600;
/** Invite lifetime: default and maximum, in hours. */
export const INVITE_DEFAULT_HOURS = 168;
export const INVITE_MAX_HOURS = 720;

/**
 * Roles inside a workspace. `owner`s manage roles and can never all be gone; `admin`s manage
 * invites and settings; `member`s chat; `guest`s see only the channels they were invited to, never the
 * member directory, and post only until their `guest_expires_at` (see guests.ts).
 */
export const WORKSPACE_ROLES = ['owner', 'admin', 'member', 'guest'] as const;
export const WorkspaceRole = Type.Union(WORKSPACE_ROLES.map((r) => Type.Literal(r)));
export type WorkspaceRole = Static<typeof WorkspaceRole>;

/**
 * How people join a workspace. `invite_only`: an invite link admits one person unless it was
 * created with a larger `max_uses`. `link`: an invite link admits anyone who has it until it
 * expires or is revoked (or reaches `max_uses`, when one was set). `request`: besides invites,
 * anyone signed in who has the workspace's join page may ask to join; an owner or admin
 * approves or denies. `domain`: besides invites, any account with a verified email at the
 * workspace's `join_domain` joins from the join page at once.
 */
export const JOIN_POLICIES = ['invite_only', 'link', 'request', 'domain'] as const;
export const JoinPolicy = Type.Union(JOIN_POLICIES.map((p) => Type.Literal(p)));
export type JoinPolicy = Static<typeof JoinPolicy>;

/**
 * Who in a workspace sees its members' email addresses (in the members list and the people
 * directory): `admins` (owners and admins, the default) or `members` (every member too).
 * Guests never see them.
 */
export const EMAIL_VISIBILITIES = ['admins', 'members'] as const;
export const EmailVisibility = Type.Union(EMAIL_VISIBILITIES.map((v) => Type.Literal(v)));
export type EmailVisibility = Static<typeof EmailVisibility>;

const Email = Type.String({
  format: 'email',
  pattern: SAFE_TEXT_PATTERN,
  minLength: 3,
  maxLength: 254,
  description: 'case-insensitive',
});
/** A password is hashed, not stored, but a lone surrogate would hash as U+FFFD: refused too. */
const Password = SafeText({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
const DisplayName = NameText({ maxLength: 100 });
/** An email domain, as after the `@`: letters, digits, dots and hyphens. */
export const EmailDomain = Type.String({
  minLength: 3,
  maxLength: 253,
  pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$',
});

// ---- accounts and sessions ---------------------------------------------------------------

export const SignUpBody = Type.Object(
  { email: Email, password: Password, name: DisplayName },
  { additionalProperties: false },
);
export type SignUpBody = Static<typeof SignUpBody>;

/**
 * Sign-in takes any safe string: a malformed email or a short password is a wrong password
 * (401), not a schema error. Only NUL and lone surrogates, which no account can hold, are 400.
 */
export const SignInBody = Type.Object(
  {
    email: SafeText({ minLength: 1, maxLength: 254 }),
    password: SafeText({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);
export type SignInBody = Static<typeof SignInBody>;

/** `POST /v1/auth/password`: the current password (any string, like sign-in) and a new one. */
export const ChangePasswordBody = Type.Object(
  {
    current_password: SafeText({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    new_password: Password,
  },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

/** An account as its owner sees it. */
export const Account = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  /** Whether the owner proved the address (a mailed link); see `AuthOptions`. */
  email_verified: Type.Boolean(),
  /** Whether sign-in asks for a second step (a TOTP code or a backup code). */
  two_factor_enabled: Type.Boolean(),
  created_at: Timestamp,
});
export type Account = Static<typeof Account>;
export const AccountResponse = Type.Object({ account: Account });
export type AccountResponse = Static<typeof AccountResponse>;

/** `GET /v1/auth/session`: the signed-in account, or `null` when signed out (never a 401). */
export const AuthSessionResponse = Type.Object({ account: Type.Union([Account, Type.Null()]) });
export type AuthSessionResponse = Static<typeof AuthSessionResponse>;

/** The body of state-changing account calls that need no fields: `{}`. */
export const EmptyBody = Type.Object({}, { additionalProperties: false });
export const OkResponse = Type.Object({ ok: Type.Literal(true) });

// ---- workspaces --------------------------------------------------------------------------

/** A workspace as one of its members sees it; `id` is the app id. */
export const Workspace = Type.Object({
  id: Uuid,
  name: Type.String(),
  join_policy: JoinPolicy,
  /** Under the `domain` policy, the email domain whose verified accounts may join; else null. */
  join_domain: Nullable(Type.String()),
  /**
   * Whether members must have two-factor sign-in on to open it: without, a workspace session
   * is `403 FORBIDDEN` with `details.reason` `two_factor_required`.
   */
  require_two_factor: Type.Boolean(),
  /** Who sees members' email addresses: `admins` (owners and admins) or `members` too; never guests. */
  email_visibility: EmailVisibility,
  /**
   * Its URL slug (`/w/acme`; owners set it, unique in the deployment), or null: then the web app
   * uses the id. `/w/<id>` always works too.
   */
  slug: Nullable(Type.String()),
  /** The logo's URL (`/v1/images/…`, see images.ts), or null: the web app shows the name's initial. */
  logo: Nullable(Type.String()),
  /** The caller's role in it. */
  role: WorkspaceRole,
  /** For a guest: when their posting ends (they can still read after it); else null. */
  guest_expires_at: Nullable(Timestamp),
  /** The caller's user id in the workspace's app. */
  user_id: UserId,
  created_at: Timestamp,
});
export type Workspace = Static<typeof Workspace>;
export const WorkspaceResponse = Type.Object({ workspace: Workspace });
export const WorkspacesResponse = Type.Object({ workspaces: Type.Array(Workspace) });

export const CreateWorkspaceBody = Type.Object({ name: DisplayName }, { additionalProperties: false });
export type CreateWorkspaceBody = Static<typeof CreateWorkspaceBody>;
export const UpdateWorkspaceBody = Type.Object(
  {
    name: Type.Optional(DisplayName),
    join_policy: Type.Optional(JoinPolicy),
    /** Needed with the `domain` policy (400 VALIDATION_ERROR without one): e.g. `example.com`. */
    join_domain: Type.Optional(Nullable(EmailDomain)),
    /** Turning it on needs two-factor sign-in on the caller's own account. */
    require_two_factor: Type.Optional(Type.Boolean()),
    /** Who sees members' email addresses: `admins` (the default) or `members`; never guests. */
    email_visibility: Type.Optional(EmailVisibility),
    /**
     * The URL slug (owners only): 3–40 lowercase letters, digits and dashes ({@link SLUG_PATTERN});
     * reserved words and a slug another workspace has are refused (400 / 409). Null clears it.
     */
    slug: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWorkspaceBody = Static<typeof UpdateWorkspaceBody>;

/** What the web app needs to talk to the chat API as the caller in one workspace. */
export const WorkspaceSession = Type.Object({
  api_key: Type.String(),
  /** A user token (HS256, the app's secret), valid until `expires_at`. */
  token: Type.String(),
  user_id: UserId,
  expires_at: Timestamp,
});
export type WorkspaceSession = Static<typeof WorkspaceSession>;

export const WorkspaceParams = Type.Object({ id: Uuid });
/** `GET /v1/workspaces/by-slug/{slug}`: a workspace by its slug (members only). */
export const WorkspaceSlugParams = Type.Object({
  slug: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }),
});

// ---- members -----------------------------------------------------------------------------

/**
 * A member of a workspace. `email` is shown to owners and admins, and to every member where
 * the workspace's `email_visibility` is `members`.
 */
export const WorkspaceMember = Type.Object({
  account_id: Uuid,
  user_id: UserId,
  name: Type.String(),
  email: Type.Optional(Type.String()),
  role: WorkspaceRole,
  joined_at: Timestamp,
  /**
   * When an owner or admin deactivated the member, or null: a deactivated member keeps its
   * place and its messages but cannot open the workspace until reactivated.
   */
  deactivated_at: Nullable(Timestamp),
  /** For guests: when their posting ends; null for everyone else. */
  guest_expires_at: Nullable(Timestamp),
});
export type WorkspaceMember = Static<typeof WorkspaceMember>;
export const WorkspaceMembersResponse = Type.Object({ members: Type.Array(WorkspaceMember) });
export const WorkspaceMemberResponse = Type.Object({ member: WorkspaceMember });
/** A role change names a member role: guests come only from guest invites. */
export const UpdateWorkspaceMemberBody = Type.Object(
  { role: Type.Union((['owner', 'admin', 'member'] as const).map((r) => Type.Literal(r))) },
  { additionalProperties: false },
);
export type UpdateWorkspaceMemberBody = Static<typeof UpdateWorkspaceMemberBody>;
export const WorkspaceMemberParams = Type.Object({ id: Uuid, account_id: Uuid });

// ---- invites -----------------------------------------------------------------------------

export const CreateInviteBody = Type.Object(
  {
    expires_in_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: INVITE_MAX_HOURS })),
    max_uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    /**
     * Make it a guest invite: who accepts joins as a `guest`, a member of these channels only
     * (public or group channels of the workspace; 404 NOT_FOUND for one that is not there),
     * able to post until `expires_at` (in the future, 400 VALIDATION_ERROR otherwise).
     */
    guest: Type.Optional(
      Type.Object(
        {
          channels: Type.Array(Type.String({ minLength: 3, maxLength: 200 }), {
            minItems: 1,
            maxItems: 50,
            uniqueItems: true,
          }),
          expires_at: Timestamp,
        },
        { additionalProperties: false },
      ),
    ),
    /** Also mail the invite link to this address (from the inviter, with the workspace's name). */
    email: Type.Optional(Email),
  },
  { additionalProperties: false },
);
export type CreateInviteBody = Static<typeof CreateInviteBody>;

/** A new invite. The token is shown only here: the server keeps only its SHA-256. */
export const CreatedInvite = Type.Object({
  id: Uuid,
  token: Type.String(),
  /** Path of the web app's invite page: `/invite/<token>`. */
  url_path: Type.String(),
  expires_at: Timestamp,
  max_uses: Nullable(Type.Integer()),
});
export type CreatedInvite = Static<typeof CreatedInvite>;

/** An active invite as owners and admins list it (without its token). */
export const Invite = Type.Object({
  id: Uuid,
  created_by: Type.Object({ account_id: Nullable(Uuid), name: Nullable(Type.String()) }),
  expires_at: Timestamp,
  max_uses: Nullable(Type.Integer()),
  uses: Type.Integer(),
  created_at: Timestamp,
  /** A guest invite's channels (cids), or null for a member invite. */
  guest_channels: Nullable(Type.Array(Type.String())),
});
export type Invite = Static<typeof Invite>;
export const InvitesResponse = Type.Object({ invites: Type.Array(Invite) });
export const InviteParams = Type.Object({ id: Uuid, invite_id: Uuid });
/** At most 100 characters: Fastify's router refuses longer path parameters before any schema. */
export const InviteTokenParams = Type.Object({ token: SafeText({ minLength: 1, maxLength: 100 }) });

/** Why an invite cannot be accepted any more. */
export const INVITE_INVALID_REASONS = ['expired', 'used_up'] as const;

/**
 * What anyone holding an invite link may see before signing in: no ids, no secrets.
 * Unknown and revoked invites answer 404 instead.
 */
export const InvitePreview = Type.Object({
  workspace_name: Type.String(),
  /** The workspace's logo (`/v1/images/…`, public), or null: show the name's initial. */
  workspace_logo: Type.Optional(Nullable(Type.String())),
  inviter_name: Nullable(Type.String()),
  valid: Type.Boolean(),
  reason: Nullable(Type.Union(INVITE_INVALID_REASONS.map((r) => Type.Literal(r)))),
  expires_at: Timestamp,
});
export type InvitePreview = Static<typeof InvitePreview>;
export const InvitePreviewResponse = Type.Object({ invite: InvitePreview });

// ---- mail: verification, password reset, change of email; sign-in protection ------------

/** How long a password-reset link works, in seconds: 30 minutes. */
export const RESET_TOKEN_TTL_SECONDS = 30 * 60;
/** How long an email-verification link works, in seconds: 24 hours. */
export const VERIFY_TOKEN_TTL_SECONDS = 24 * 3600;
/** How long a change-of-email link works, in seconds: 1 hour. */
export const EMAIL_CHANGE_TOKEN_TTL_SECONDS = 3600;
/** How many earlier passwords of an account a new one may not repeat. */
export const PASSWORD_HISTORY = 5;

/**
 * Why a password was refused by the policy (`VALIDATION_ERROR`, `details.reason`), beyond its
 * length (which the schema checks): `breached` — it is on the list of common passwords from
 * breaches; `reused` — one of the account's last PASSWORD_HISTORY passwords; `email` — it is
 * the account's email address.
 */
export const PASSWORD_REFUSALS = ['breached', 'reused', 'email'] as const;
export type PasswordRefusal = (typeof PASSWORD_REFUSALS)[number];

/** `GET /v1/auth/options`: what the sign-in pages need to know about this server. */
export const AuthOptions = Type.Object({
  /** `smtp`: mail is sent; `log`: no SMTP server is configured, mail is only written to the server log. */
  email_delivery: Type.Union([Type.Literal('smtp'), Type.Literal('log')]),
  /** Whether an account must verify its email before it can sign in. */
  email_verification_required: Type.Boolean(),
  password_min_length: Type.Integer(),
  /** The OpenID Connect provider people may sign in with, or null when none is configured. */
  oidc: Nullable(OidcOption),
});
export type AuthOptions = Static<typeof AuthOptions>;

/** `POST /v1/auth/password/forgot`: always `{ok:true}`, whether the email has an account or not. */
export const ForgotPasswordBody = Type.Object(
  { email: SafeText({ minLength: 1, maxLength: 254 }) },
  { additionalProperties: false },
);
export type ForgotPasswordBody = Static<typeof ForgotPasswordBody>;

/** A token from a mailed link: 43 base64url characters (anything else is refused as invalid). */
const MailToken = SafeText({ minLength: 1, maxLength: 100 });

/** `POST /v1/auth/password/reset`: the token of the mailed link and the new password. */
export const ResetPasswordBody = Type.Object(
  { token: MailToken, new_password: Password },
  { additionalProperties: false },
);
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

/** `POST /v1/auth/email/verify` and `/v1/auth/email/confirm`: the token of a mailed link. */
export const MailTokenBody = Type.Object({ token: MailToken }, { additionalProperties: false });
export type MailTokenBody = Static<typeof MailTokenBody>;

/** `POST /v1/auth/email/change`: the new address, and the current password to prove it is the owner. */
export const ChangeEmailBody = Type.Object(
  { new_email: Email, password: SafeText({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }) },
  { additionalProperties: false },
);
export type ChangeEmailBody = Static<typeof ChangeEmailBody>;

// ---- two-factor sign-in (TOTP and backup codes) -------------------------------------------

/** How long the challenge of a sign-in's second step works, in seconds: 5 minutes. */
export const TWO_FACTOR_CHALLENGE_TTL_SECONDS = 300;
/** How many backup codes an account gets at a time; each works once. */
export const BACKUP_CODE_COUNT = 10;

/**
 * The answer to a right password when the account has two-factor sign-in on: no cookie yet.
 * Send `challenge` and a code to `POST /v1/auth/signin/2fa` before `expires_at`.
 */
export const TwoFactorChallenge = Type.Object({
  two_factor_required: Type.Literal(true),
  challenge: Type.String(),
  expires_at: Timestamp,
});
export type TwoFactorChallenge = Static<typeof TwoFactorChallenge>;

/** `POST /v1/auth/signin`: the account (signed in), or a challenge for the second step. */
export const SignInResponse = Type.Union([AccountResponse, TwoFactorChallenge]);
export type SignInResponse = Static<typeof SignInResponse>;

/**
 * A code of the second step: six digits from the authenticator app, or a backup code
 * (`xxxx-xxxx-xxxx`). Spaces and dashes are ignored, letters in any case. Any safe string is
 * accepted by the schema: a malformed code is a wrong code, not a schema error.
 */
const TwoFactorCode = SafeText({ minLength: 1, maxLength: 64 });

/** `POST /v1/auth/signin/2fa`: the challenge of the first step and a code. */
export const SignInTwoFactorBody = Type.Object(
  { challenge: SafeText({ minLength: 1, maxLength: 100 }), code: TwoFactorCode },
  { additionalProperties: false },
);
export type SignInTwoFactorBody = Static<typeof SignInTwoFactorBody>;

/** `GET /v1/auth/2fa`: whether two-factor sign-in is on, and how many backup codes are left. */
export const TwoFactorStatus = Type.Object({
  enabled: Type.Boolean(),
  enabled_at: Nullable(Timestamp),
  backup_codes_left: Type.Integer(),
});
export type TwoFactorStatus = Static<typeof TwoFactorStatus>;

/** `POST /v1/auth/2fa/setup`: the current password, to start setting up two-factor sign-in. */
export const TwoFactorSetupBody = Type.Object(
  { password: SafeText({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }) },
  { additionalProperties: false },
);
export type TwoFactorSetupBody = Static<typeof TwoFactorSetupBody>;

/**
 * A new TOTP secret, not in force until a first code confirms it (`POST /v1/auth/2fa/enable`):
 * the secret in base32 (to type in), the `otpauth://` URI, and that URI as a QR code (an SVG
 * `data:` URL, for an `<img>`).
 */
export const TwoFactorSetup = Type.Object({
  secret: Type.String(),
  otpauth_uri: Type.String(),
  qr_code: Type.String(),
});
export type TwoFactorSetup = Static<typeof TwoFactorSetup>;

/** `POST /v1/auth/2fa/enable`: the first code from the app, which proves it was set up. */
export const TwoFactorEnableBody = Type.Object({ code: TwoFactorCode }, { additionalProperties: false });
export type TwoFactorEnableBody = Static<typeof TwoFactorEnableBody>;

/** Backup codes, shown only in this answer: the server keeps their hashes. */
export const BackupCodesResponse = Type.Object({ backup_codes: Type.Array(Type.String()) });
export type BackupCodesResponse = Static<typeof BackupCodesResponse>;

/**
 * Proof for turning two-factor sign-in off or making new backup codes: the password, or a
 * current code (TOTP or backup). One of the two.
 */
export const TwoFactorProofBody = Type.Object(
  {
    password: Type.Optional(SafeText({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH })),
    code: Type.Optional(TwoFactorCode),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type TwoFactorProofBody = Static<typeof TwoFactorProofBody>;

// ---- sessions ----------------------------------------------------------------------------

/** The kinds of device a session's user agent names. */
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'tv', 'bot', 'unknown'] as const;

/** One signed-in session of the account, as its owner lists them. */
export const AccountSessionInfo = Type.Object({
  id: Uuid,
  /** The session this request was made with. */
  current: Type.Boolean(),
  /** `Firefox 140`, from the user agent; null when it names none. */
  browser: Nullable(Type.String()),
  /** `macOS 15.2`, `Android 15`; null when unknown. */
  os: Nullable(Type.String()),
  device: Type.Union(DEVICE_TYPES.map((d) => Type.Literal(d))),
  /** The client IP as last seen. */
  ip: Nullable(Type.String()),
  created_at: Timestamp,
  /** The last request with this session, to the minute. */
  last_seen_at: Timestamp,
  /** When it ends at the latest; it ends sooner after `idle_days` without a request. */
  expires_at: Timestamp,
});
export type AccountSessionInfo = Static<typeof AccountSessionInfo>;
export const AccountSessionsResponse = Type.Object({
  sessions: Type.Array(AccountSessionInfo),
  /** Days without a request after which a session ends (PARLEY_SESSION_IDLE_DAYS). */
  idle_days: Type.Integer(),
});
export type AccountSessionsResponse = Static<typeof AccountSessionsResponse>;
export const AccountSessionParams = Type.Object({ id: Uuid });

/**
 * To every connection of the workspace's app: its name, address (slug) or logo changed, so
 * every member's sidebar, switcher and tab title follow without a reload.
 */
export const WorkspaceUpdatedEvent = Type.Object({
  type: Type.Literal('workspace.updated'),
  workspace_id: Uuid,
  name: Type.String(),
  slug: Nullable(Type.String()),
  logo: Nullable(Type.String()),
  created_at: Timestamp,
});
export type WorkspaceUpdatedEvent = Static<typeof WorkspaceUpdatedEvent>;

/**
 * @parley/protocol — the one definition of Parley's wire contract. Server and clients both
 * parse with these schemas; nothing else defines the shapes that cross the wire.
 */

export {
  Account,
  AccountResponse,
  AuthSessionResponse,
  ChangePasswordBody,
  CreatedInvite,
  CreateInviteBody,
  CreateWorkspaceBody,
  EmptyBody,
  INVITE_DEFAULT_HOURS,
  INVITE_INVALID_REASONS,
  INVITE_MAX_HOURS,
  Invite,
  InviteParams,
  InvitePreview,
  InvitePreviewResponse,
  InvitesResponse,
  InviteTokenParams,
  JOIN_POLICIES,
  JoinPolicy,
  OkResponse,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  SignInBody,
  SignUpBody,
  UpdateWorkspaceBody,
  UpdateWorkspaceMemberBody,
  WORKSPACE_ROLES,
  WORKSPACE_TOKEN_TTL_SECONDS,
  Workspace,
  WorkspaceMember,
  WorkspaceMemberParams,
  WorkspaceMemberResponse,
  WorkspaceMembersResponse,
  WorkspaceParams,
  WorkspaceResponse,
  WorkspaceRole,
  WorkspaceSession,
  WorkspacesResponse,
} from './accounts.js';

export {
  Channel,
  ErrorBody,
  MEMBER_ROLES,
  MESSAGE_TYPES,
  Member,
  MemberRole,
  Membership,
  Message,
  MessageType,
  PRESENCE_STATES,
  PresenceState,
  QuotedMessage,
  Reaction,
  USER_ROLES,
  User,
  UserRole,
} from './entities.js';
export {
  CLOSE_CODES,
  ERROR_CODES,
  ERRORS,
  type ErrorCode,
  isRetryable,
  shouldReconnect,
  statusOf,
} from './errors.js';
export {
  ChannelEvent,
  EPHEMERAL_EVENT_TYPES,
  EphemeralEvent,
  type EphemeralEventType,
  EVENT_TYPES,
  type EventType,
  LOGGED_EVENT_TYPES,
  type LoggedEventType,
  type ServerEvent,
} from './events.js';
export {
  AuthFrame,
  CLIENT_REQUESTS,
  type ClientRequest,
  type ClientRequestType,
  HelloFrame,
  type ReplyFrame,
  type SettablePresence,
} from './frames.js';
export { CHANNEL_TYPES, ChannelId, ChannelType, Cid, parseCid, Seq, Timestamp, UserId, Uuid } from './ids.js';
export * from './rest.js';
export { uuidv7 } from './uuid.js';
export { PROTOCOL_VERSION } from './version.js';

/**
 * The error catalogue. Every failure the API can answer with has a code here, with
 * the HTTP status it travels with and whether a client may retry the same request.
 * `docs/errors.md` documents each code; a test keeps the two in step.
 */
export const ERRORS = {
  VALIDATION_ERROR: {
    status: 400,
    retryable: false,
    summary: 'The request body, query or frame does not match its schema.',
  },
  BAD_JSON: { status: 400, retryable: false, summary: 'The body or frame is not valid JSON.' },
  UNAUTHORIZED: { status: 401, retryable: false, summary: 'Missing, malformed, forged or expired credentials.' },
  FORBIDDEN: { status: 403, retryable: false, summary: 'Authenticated, but not allowed to do this.' },
  NOT_FOUND: { status: 404, retryable: false, summary: 'No such resource, or one the caller may not know exists.' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, summary: 'The path exists, but not with this method.' },
  CONFLICT: {
    status: 409,
    retryable: false,
    summary: 'The request conflicts with existing state (for example a reused message id).',
  },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, summary: 'The body or frame is larger than the server accepts.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, summary: 'The body is not `application/json`.' },
  RATE_LIMITED: { status: 429, retryable: true, summary: 'Too many requests; wait and retry.' },
  INTERNAL: {
    status: 500,
    retryable: true,
    summary: 'An unexpected server error. It is logged; details are never sent.',
  },
  UNAVAILABLE: { status: 503, retryable: true, summary: 'The server or its database is temporarily unavailable.' },
  INVALID_FILE_TYPE: {
    status: 415,
    retryable: false,
    summary: "The file's type, read from its bytes, is not one the app's upload rules allow.",
  },
  QUOTA_EXCEEDED: {
    status: 413,
    retryable: false,
    summary: 'Storing this would take the user or the app past its storage quota.',
  },
  ACCOUNT_LOCKED: {
    status: 423,
    retryable: true,
    summary: 'Too many failed sign-ins: the account is locked for a while (`details.retry_after_ms`).',
  },
  POLL_CLOSED: {
    status: 409,
    retryable: false,
    summary: 'The poll is closed (by its author, a moderator or its end time): its results stand, votes are refused.',
  },
  GUEST_LOCKED: {
    status: 403,
    retryable: false,
    summary:
      "A guest's time in the workspace has run out: they can still read, but not post, until an admin extends it.",
  },
  BANNED: {
    status: 403,
    retryable: false,
    summary:
      'The caller is banned from this channel or app (`details`: `cid`, `reason`, `expires_at`); an app-wide ban also closes the socket with 4503.',
  },
  MESSAGE_BLOCKED: {
    status: 422,
    retryable: false,
    summary:
      "The app's automod refused the message (`details.rule`: `word`, `pattern`, `domain`, `spam` or `mentions`).",
  },
  CALL_BUSY: {
    status: 409,
    retryable: false,
    summary: 'You are already in another call: leave it first (`details.call_id`).',
  },
  CALL_FULL: {
    status: 409,
    retryable: false,
    summary: 'The call has as many participants as a peer-to-peer call can carry (`details.limit`).',
  },
  CALL_ENDED: { status: 409, retryable: false, summary: 'The call is over, or this ring was already answered.' },
  NOT_IN_CALL: {
    status: 403,
    retryable: false,
    summary: 'Only joined participants of a call may do this (for example relay a signal), and only to each other.',
  },
  SPACE_FULL: {
    status: 409,
    retryable: false,
    summary: 'The space has as many people in it as its capacity allows (`details.capacity`).',
  },
  MESSAGE_REJECTED: {
    status: 422,
    retryable: false,
    summary: "The app's before-send hook refused this message (`details.reason` says why, if it said).",
  },
  HOOK_UNAVAILABLE: {
    status: 503,
    retryable: true,
    summary: "The app's before-send hook did not answer in time and the app fails closed: the message was not sent.",
  },
  OUTBOUND_NOT_ALLOWED: {
    status: 400,
    retryable: false,
    summary:
      "The URL is one the server's outbound policy does not call (a private address, or a port other than 80 and 443): `details.setting` names the setting that would allow it, `details.entry` the entry to add.",
  },
  UNKNOWN_COMMAND: {
    status: 404,
    retryable: false,
    summary: 'No slash command of this name in the app (built-in or registered): nothing was run or posted.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    retryable: false,
    summary: 'This `Idempotency-Key` was already used for a different request (another method, path or body).',
  },
  REQUEST_IN_PROGRESS: {
    status: 409,
    retryable: true,
    summary: 'A request with this `Idempotency-Key` is still being handled: retry it shortly for its answer.',
  },
  GROUP_TOO_SMALL: {
    status: 422,
    retryable: false,
    summary:
      'A group made in one step (`first_message`) needs at least one member besides its creator: a group of one is not made.',
  },
  ASSISTANT_OFF: {
    status: 409,
    retryable: false,
    summary:
      'The app has no assistant, or it is off, or this feature of it (catch-up, smart replies) is off: nothing was sent to a model.',
  },
  ASSISTANT_UNAVAILABLE: {
    status: 503,
    retryable: true,
    summary:
      "The assistant's model provider did not answer in time, answered an error, or answered something that is not a completion.",
  },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>;

/** Every error code the API can return. */
export type ErrorCode = keyof typeof ERRORS;

/** All error codes, in catalogue order. */
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The HTTP status that travels with an error code. */
export function statusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}

/** Whether a request that failed with this code may be retried unchanged. */
export function isRetryable(code: ErrorCode): boolean {
  return ERRORS[code].retryable;
}

/**
 * WebSocket close codes. 4000–4499: the client should reconnect (after fixing what the
 * code names, such as a fresh token). 4500–4999: it should not reconnect on its own.
 */
export const CLOSE_CODES = {
  /** Token missing, forged or expired: get a fresh token, then reconnect. */
  UNAUTHORIZED: 4001,
  /** No auth frame arrived in time. */
  AUTH_TIMEOUT: 4002,
  /** No pong to our heartbeat: the connection was presumed dead. */
  HEARTBEAT_TIMEOUT: 4003,
  /** The client read too slowly and its send queue overflowed. Reconnect and resync. */
  SLOW_CONSUMER: 4004,
  /**
   * The server is draining (shutting down or restarting): it has stopped taking connections, so
   * reconnect at once and land on another node. The reason carries `reconnect_within_ms=N`:
   * reconnect at a random moment within N ms (no backoff), so a node's sockets do not all arrive
   * at the next node in the same instant, then resume with `since`. See `reconnectWithinMs`.
   */
  SHUTTING_DOWN: 4005,
  /**
   * The server is opening as many sockets as it can serve: reconnect after the reason's
   * `retry_after_ms=N` (plus jitter), not before. See `retryAfterMs`.
   */
  OVERLOADED: 4006,
  /** The API key names no app. Do not retry with the same key. */
  UNKNOWN_APP: 4501,
  /** The client broke the protocol in a way that cannot be answered (for example, a second auth frame). */
  PROTOCOL_VIOLATION: 4502,
  /** The user is banned from the app: do not reconnect (until the ban lifts). */
  BANNED: 4503,
} as const;

/** Whether a client should reconnect after the server closed with this code. */
export function shouldReconnect(code: number): boolean {
  return code < 4500 || code > 4999;
}

/** The close reason of `OVERLOADED`: `retry_after_ms=N`. */
export function retryAfterReason(ms: number): string {
  return `retry_after_ms=${Math.max(0, Math.round(ms))}`;
}

/** The retry hint of a close reason (`retry_after_ms=N`), in ms, or null when it has none. */
export function retryAfterMs(reason: string): number | null {
  return hintOf(reason, 'retry_after_ms');
}

/** The close reason of `SHUTTING_DOWN`: `server shutting down; reconnect_within_ms=N`. */
export function drainReason(ms: number): string {
  return `server shutting down; reconnect_within_ms=${Math.max(0, Math.round(ms))}`;
}

/**
 * The spread hint of a `SHUTTING_DOWN` close reason (`reconnect_within_ms=N`), in ms, or null
 * when it has none (a server older than the hint: reconnect with the usual backoff).
 */
export function reconnectWithinMs(reason: string): number | null {
  return hintOf(reason, 'reconnect_within_ms');
}

function hintOf(reason: string, name: string): number | null {
  const m = new RegExp(`(?:^|[\\s;,])${name}=(\\d{1,7})(?:$|[\\s;,])`).exec(reason);
  return m ? Number(m[1]) : null;
}

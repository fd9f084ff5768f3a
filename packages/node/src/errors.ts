import { ERRORS, type ErrorCode } from '@parley/protocol';

/**
 * A failed call: a code from the server's catalogue (docs/errors.md) with its HTTP status, or
 * one of the SDK's own — `NETWORK` (no answer: the connection failed or dropped) and `TIMEOUT`
 * (no answer within `timeoutMs`). Branch on `code`; `message` is for people.
 */
export class ParleyError extends Error {
  readonly code: ErrorCode | 'NETWORK' | 'TIMEOUT';
  readonly status: number | null;
  /** Whether sending the same request again may succeed (the SDK already did, `retries` times). */
  readonly retryable: boolean;
  readonly details: unknown;
  /** The server's `x-request-id` of the answer: quote it when reporting a problem. */
  readonly requestId: string | null;

  constructor(
    code: ErrorCode | 'NETWORK' | 'TIMEOUT',
    message: string,
    opts: { status?: number | null; details?: unknown; requestId?: string | null; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = opts.status ?? null;
    this.details = opts.details;
    this.requestId = opts.requestId ?? null;
    this.retryable =
      code === 'NETWORK' || code === 'TIMEOUT' || (code in ERRORS && ERRORS[code as ErrorCode].retryable);
  }
}

/** Whether `e` is a ParleyError, optionally of one code. */
export function isParleyError(e: unknown, code?: ParleyError['code']): e is ParleyError {
  return e instanceof ParleyError && (code === undefined || e.code === code);
}

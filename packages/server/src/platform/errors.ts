/**
 * Typed errors. Expected failures throw `ApiError` with a catalogue code; anything else is
 * a bug, logged in full and answered as `INTERNAL` without details.
 */
import { type ErrorCode, statusOf } from '@parley/protocol';

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return statusOf(this.code);
  }
  /** The wire body `{ error: { code, message, details? } }`. */
  toBody(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} not found`);
export const forbidden = (why: string) => new ApiError('FORBIDDEN', why);
export const invalid = (why: string, details?: unknown) => new ApiError('VALIDATION_ERROR', why, details);

/** Turn any thrown value into an ApiError; unknown errors become INTERNAL (the caller logs them). */
export function toApiError(err: unknown): { error: ApiError; unexpected: boolean } {
  if (err instanceof ApiError) return { error: err, unexpected: false };
  if (isUnavailable(err))
    return { error: new ApiError('UNAVAILABLE', 'The database is unavailable; retry shortly'), unexpected: true };
  return { error: new ApiError('INTERNAL', 'Internal server error'), unexpected: true };
}

/**
 * node-postgres reports a connection lost under a query, or a query on a client whose
 * connection was lost, with these messages and no code.
 */
const PG_CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error and is not queryable)/;

/**
 * Connection-level database failures are retryable, not bugs. Drizzle wraps driver errors
 * (`DrizzleQueryError`), so the code is looked for along the `cause` chain.
 */
function isUnavailable(err: unknown, depth = 0): boolean {
  if (err instanceof Error && PG_CONNECTION_LOST.test(err.message)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    (code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === 'ETIMEDOUT' ||
      code === '57P01' ||
      code === '57P03' ||
      code.startsWith('08'))
  )
    return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return depth < 5 && cause != null && isUnavailable(cause, depth + 1);
}

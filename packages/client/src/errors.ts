import { ERRORS, type ErrorCode } from '@parley/protocol';

/** An error answered by the server, or a local failure such as a lost connection. */
export class ParleyError extends Error {
  /** A catalogue code (`VALIDATION_ERROR`, `FORBIDDEN`, …) or `DISCONNECTED` / `TIMEOUT`. */
  readonly code: string;
  /** Whether the same request may succeed if tried again. */
  readonly retryable: boolean;
  readonly status?: number;
  readonly details?: unknown;

  constructor(code: string, message: string, opts: { status?: number; details?: unknown; retryable?: boolean } = {}) {
    super(message);
    this.name = 'ParleyError';
    this.code = code;
    this.status = opts.status;
    this.details = opts.details;
    this.retryable = opts.retryable ?? (code in ERRORS ? ERRORS[code as ErrorCode].retryable : true);
  }
}

/** The connection dropped before the answer came: retrying is safe for idempotent requests. */
export const disconnected = () =>
  new ParleyError('DISCONNECTED', 'Connection lost before the server answered', { retryable: true });

/**
 * How the CLI fails: one line `parley: <message>` on stderr. Exit 2 for a command line it
 * cannot run (`UsageError`), 3 for a database newer than this Parley, 1 for any other failure
 * while running. Messages never carry SQL,
 * column names or stack traces; `PARLEY_DEBUG=1` adds the stack for a bug report.
 */

/** The command line is wrong: exit 2. */
export class UsageError extends Error {}

/** An expected failure with a message written for the operator: exit 1. */
export class CliError extends Error {}

/**
 * Exit 3: the database was migrated by a newer Parley than this one (the server's
 * DatabaseTooNewError). Restarting will not help, so a service manager should not keep trying
 * (deploy/systemd/parley@.service: RestartPreventExitStatus=3).
 */
export const EXIT_DATABASE_TOO_NEW = 3;

/** The one line to print for any error, and the exit code. */
export function describeError(e: unknown): { message: string; code: 1 | 2 | 3 } {
  if (e instanceof UsageError) return { message: e.message, code: 2 };
  if (e instanceof CliError) return { message: e.message, code: 1 };
  const err = e as { message?: unknown; code?: unknown; cause?: unknown; name?: unknown };
  // Matched by its code, not its class: this module does not load @parley/server.
  if (err?.code === 'PARLEY_DATABASE_TOO_NEW' && typeof err.message === 'string')
    return { message: err.message, code: EXIT_DATABASE_TOO_NEW };
  const sqlState = sqlStateOf(e);
  if (sqlState) {
    return {
      message: `the database refused the operation (SQLSTATE ${sqlState}); PARLEY_DEBUG=1 shows details`,
      code: 1,
    };
  }
  const text = typeof err?.message === 'string' ? err.message : String(e);
  if (/failed query|\bselect\b.+\bfrom\b|\binsert into\b|\bupdate\b.+\bset\b|\bdelete from\b/i.test(text)) {
    return { message: 'a database operation failed; PARLEY_DEBUG=1 shows details', code: 1 };
  }
  const line = text.split('\n')[0]?.slice(0, 300) ?? 'failed';
  return { message: line, code: 1 };
}

/** The SQLSTATE of a database error (pg's and PGlite's carry `code`; drizzle wraps them in `cause`). */
function sqlStateOf(e: unknown): string | null {
  for (let cur = e, depth = 0; cur && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    const severity = (cur as { severity?: unknown }).severity;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string') return code;
  }
  return null;
}

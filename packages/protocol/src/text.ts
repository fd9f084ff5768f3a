/**
 * Text fields and whole-number parameters, defined once so that every route and frame
 * refuses the same things with `VALIDATION_ERROR` instead of letting the database fail.
 *
 * Text: PostgreSQL `text` cannot hold U+0000, and UTF-8 cannot encode a lone UTF-16 surrogate
 * (JSON can carry both, as `\u0000` and `\ud800`). Every string a client sends that is stored
 * or compared in SQL is one of the types below, so the rule lives in the schema, not in each
 * route. Anything else — emoji, U+FEFF, RTL marks, control characters, SQL or HTML — is
 * stored and read back unchanged.
 */
import { type StringOptions, type TString, Type } from '@sinclair/typebox';

/**
 * No NUL, no lone surrogate. Written so that it means the same with and without the regex `u`
 * flag (Ajv compiles patterns with it, TypeBox's compiler without): outside `u` mode a
 * character above U+FFFF is matched as its surrogate pair, inside as one code point.
 */
export const SAFE_TEXT_PATTERN = '^(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$';

/**
 * Safe text that is not blank: at least one character outside JavaScript's white space (the
 * set `String.prototype.trim` removes, U+FEFF included).
 */
export const NOT_BLANK_PATTERN = `^(?=[\\s\\S]*\\S)${SAFE_TEXT_PATTERN.slice(1)}`;

const safe = new RegExp(SAFE_TEXT_PATTERN);
const notBlank = new RegExp(NOT_BLANK_PATTERN);

/** Whether `s` has no NUL and no lone surrogate (what {@link SafeText} accepts, length aside). */
export function isSafeText(s: string): boolean {
  return safe.test(s);
}

/** Whether `s` is safe text and not blank (what {@link NameText} accepts, length aside). */
export function isNameText(s: string): boolean {
  return notBlank.test(s);
}

/**
 * A string that can be stored and read back unchanged: no NUL, no lone surrogate, at most
 * `maxLength` characters (a bound is required: no text field is unbounded).
 */
export function SafeText(options: StringOptions & { maxLength: number }): TString {
  return Type.String({ ...options, pattern: SAFE_TEXT_PATTERN });
}

/** A name (or message text): safe text, 1 to `maxLength` characters, and not blank after trimming. */
export function NameText(options: StringOptions & { maxLength: number }): TString {
  return Type.String({ minLength: 1, ...options, pattern: NOT_BLANK_PATTERN });
}

/** What a failed text pattern means, in words, for error messages (null for other patterns). */
export function describeTextPattern(pattern: unknown): string | null {
  if (pattern === SAFE_TEXT_PATTERN) return 'must not contain NUL or a lone UTF-16 surrogate';
  if (pattern === NOT_BLANK_PATTERN) return 'must not be blank, nor contain NUL or a lone UTF-16 surrogate';
  return null;
}

/**
 * Largest seq (and other whole number) a request may carry: 2^53 − 1, the largest integer a
 * JSON number holds exactly. PostgreSQL's bigint goes further, but no client can name more.
 */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

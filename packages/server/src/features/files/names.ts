/**
 * File names as users send them are untrusted text that ends up in a `Content-Disposition`
 * header, in a download dialog and in the UI. `sanitizeName` keeps what a person would
 * recognise and drops what could mislead or break: directories (`../../etc/passwd`), control
 * characters, bidirectional overrides that make `gpj.exe` read as `exe.jpg`, characters that
 * are reserved on common file systems, and lengths past what they store.
 */

/** Longest name kept, in UTF-8 bytes (most file systems store 255). */
export const MAX_NAME_BYTES = 200;

// C0/C1 controls, and the bidirectional formatting marks and overrides (LRM, RLM, ALM,
// LRE…RLO, LRI…PDI), plus zero-width joiners/spaces and the BOM that hide characters.
const UNSAFE = /[\p{Cc}\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu;
// Reserved on Windows (and `/` everywhere); replaced rather than dropped so words stay apart.
const RESERVED = /[<>:"/\\|?*]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Cut `s` to at most `max` UTF-8 bytes without splitting a character (or a surrogate pair). */
function cutBytes(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = utf8(ch);
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}

/** A safe display and download name for an uploaded file; `file` when nothing is left. */
export function sanitizeName(raw: string | undefined | null): string {
  let s = (raw ?? '').normalize('NFC');
  // Only the last path segment: browsers and tools send full paths (`C:\Users\x\a.png`).
  s = s.split(/[/\\]/).pop() ?? '';
  // Lone surrogates cannot be stored or encoded.
  s = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
  s = s
    .replace(/[\t\n\r\v\f]/g, ' ')
    .replace(UNSAFE, '')
    .replace(RESERVED, '_');
  s = s.replace(/\s+/g, ' ').trim();
  // No hidden files or names made of dots (`..`), no trailing dots or spaces (Windows drops them).
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (WINDOWS_DEVICE.test(s)) s = `_${s}`;
  if (utf8(s) > MAX_NAME_BYTES) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : '';
    s = cutBytes(s.slice(0, s.length - ext.length), MAX_NAME_BYTES - utf8(ext)).trimEnd() + ext;
  }
  return s === '' ? 'file' : s;
}

/** The name's extension, lower case without the dot (`""` when none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * A `Content-Disposition` value: an ASCII `filename` fallback (quotes, backslashes and
 * non-ASCII replaced) and the exact name as RFC 5987 `filename*`.
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

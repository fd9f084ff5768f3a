/**
 * Which URLs of a message get previews: the first `MAX_PREVIEWS` distinct http(s) URLs of its
 * text, in order, outside code (fenced blocks and inline code spans are skipped, as a reader
 * would not expect a card for a URL quoted as code). Angle brackets (`<https://…>`) and a
 * Markdown link's target count; trailing sentence punctuation and an unbalanced closing
 * parenthesis do not belong to the URL.
 *
 * Pure functions, shared by the send path, edits, the unfurl job and preview removal, so all
 * four agree on what a message's preview URLs are.
 */
import { MAX_PREVIEW_URL, MAX_PREVIEWS } from '@parley/protocol';

const CODE = /```[\s\S]*?(?:```|$)|`[^`\n]*`/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a URL ends at a control character
const URL_LIKE = /\bhttps?:\/\/[^\s<>"'`\u0000-\u001f\u007f]+/gi;

/** Cut what a sentence puts after a URL: `.`, `,`, `!`, an unbalanced `)` or `]` … */
function trimUrl(raw: string): string {
  let u = raw;
  for (;;) {
    const last = u.at(-1);
    if (!last) return u;
    if ('.,;:!?*_~'.includes(last)) u = u.slice(0, -1);
    else if (last === ')' && count(u, '(') < count(u, ')')) u = u.slice(0, -1);
    else if (last === ']' && count(u, '[') < count(u, ']')) u = u.slice(0, -1);
    else return u;
  }
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/**
 * The URL a link is cached and compared by: parsed and printed by WHATWG URL rules (host in
 * lower case, default port dropped, path normalized), without its fragment. Null when it does
 * not parse as http(s) or is too long.
 */
export function normalizeUrl(raw: string): string | null {
  if (raw.length > MAX_PREVIEW_URL) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password) return null; // credentials in a URL are never fetched
  u.hash = '';
  const out = u.toString();
  return out.length > MAX_PREVIEW_URL ? null : out;
}

/** The preview URLs of `text`, as written (trimmed), distinct by their normalized form. */
export function previewUrls(text: string): string[] {
  const plain = text.replace(CODE, ' ');
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of plain.matchAll(URL_LIKE)) {
    const url = trimUrl(m[0]);
    const key = normalizeUrl(url);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push(url);
    if (out.length === MAX_PREVIEWS) break;
  }
  return out;
}

/**
 * Snippets made safe for HTML. PostgreSQL's `ts_headline` marks matches but knows nothing of
 * HTML (and its parser drops anything that looks like a tag), so the database is handed the
 * text with `<` and `>` swapped for control characters it treats as blanks, and the match
 * marks are control characters too; escaping happens here, once, after which the only markup
 * in a snippet is `<mark>`.
 */

/** Control characters standing in for `<`, `>` and the start and end of a match. */
export const LT = '\u0001';
export const MARK_START = '\u0002';
export const MARK_END = '\u0003';
export const GT = '\u0004';

/** The same swap `ts_headline`'s input gets in SQL (see messages.ts). */
export function shieldTags(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the stand-ins are control characters on purpose
  return text.replace(/[<>\u0001-\u0004]/g, (c) => (c === '<' ? LT : c === '>' ? GT : ' '));
}

/** The longest snippet of a message shown when the database gave no headline. */
const SNIPPET_CHARS = 280;

/** Mark each case-insensitive occurrence of the terms (in text already shielded). */
function markTerms(text: string, terms: readonly string[]): string {
  if (terms.length === 0) return text;
  const escaped = terms.map((t) => shieldTags(t).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return text.replace(new RegExp(escaped.join('|'), 'giu'), (m) => `${MARK_START}${m}${MARK_END}`);
}

/** A window of a long text around its first mark, or its start. */
function around(text: string): string {
  if (text.length <= SNIPPET_CHARS) return text;
  const first = Math.max(0, text.indexOf(MARK_START));
  const start = Math.max(0, Math.min(first - 60, text.length - SNIPPET_CHARS));
  const body = text.slice(start, start + SNIPPET_CHARS);
  return `${start > 0 ? '… ' : ''}${body}${start + SNIPPET_CHARS < text.length ? ' …' : ''}`;
}

function escapeHtml(s: string): string {
  let out = '';
  for (const c of s) {
    if (c === '&') out += '&amp;';
    else if (c === '"') out += '&quot;';
    else if (c === "'") out += '&#39;';
    else if (c === '<' || c === LT) out += '&lt;';
    else if (c === '>' || c === GT) out += '&gt;';
    else if (c === MARK_START) out += '<mark>';
    else if (c === MARK_END) out += '</mark>';
    else out += c;
  }
  return out;
}

/**
 * The HTML snippet of one hit: `headline` is ts_headline's output over the shielded text (or
 * null when the query had no words), `terms` the substring terms to mark as well.
 */
export function renderSnippet(text: string, headline: string | null, terms: readonly string[]): string {
  const marked = markTerms(headline ?? shieldTags(text), terms);
  return escapeHtml(headline === null ? around(marked) : marked).trim();
}

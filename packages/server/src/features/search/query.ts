/**
 * The search query language, parsed in one place (documented in docs/protocol/search.md):
 *
 *   free words            all of them, stemmed in the app's language and as typed
 *   "exact phrase"        the words next to each other, in order
 *   -word, -"phrase"      without it
 *   word OR word          either
 *   from:@ann  from:@me   sent by (username or user id)
 *   in:#general           in that channel (name, id or cid)
 *   to:@bob               in a direct message with that user
 *   has:link has:file has:reaction
 *   is:thread is:pinned
 *   mentions:@me  mentions:@ann
 *   before:2026-05-01  after:2026-05-01  on:2026-05-01   (days in UTC; before and after exclude the day)
 *
 * Words in scripts written without spaces (Chinese, Japanese, Korean, Thai…) have no word
 * boundaries a text-search parser can find, so they are matched as substrings instead.
 * Unknown `key:value` pairs (a URL, `12:30`) are plain words. An operator with a value it
 * cannot take is a VALIDATION_ERROR naming it, never silently ignored.
 */
import { invalid } from '../../platform/errors.js';

export const HAS = ['link', 'file', 'reaction'] as const;
export const IS = ['thread', 'pinned'] as const;
type Has = (typeof HAS)[number];
type Is = (typeof IS)[number];

export interface ParsedQuery {
  /** The free text in `websearch_to_tsquery` syntax (words, "phrases", -negations, OR); may be ''. */
  text: string;
  /** The free-text terms one by one (phrases whole), for when the text search has nothing to go on. */
  words: { text: string; negated: boolean }[];
  /** Whether any word or phrase must be present (negations alone find nothing to rank). */
  positive: boolean;
  /** Terms matched as case-insensitive substrings (scripts without spaces). */
  substrings: string[];
  /** Terms excluded as substrings. */
  notSubstrings: string[];
  from: string[];
  in: string[];
  to: string[];
  mentions: string[];
  has: Set<Has>;
  is: Set<Is>;
  /** created_at >= since and < until. */
  since: Date | null;
  until: Date | null;
}

const OPERATORS = new Set(['from', 'in', 'to', 'has', 'is', 'mentions', 'before', 'after', 'on']);
/** Scripts written without spaces between words. */
const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]/u;
const MAX_TERMS = 32;
const DAY_MS = 86_400_000;

interface Token {
  negated: boolean;
  quoted: boolean;
  key: string | null;
  value: string;
}

/** Split on white space, keeping "quoted runs" (an unclosed quote runs to the end). */
function tokenize(q: string): Token[] {
  const out: Token[] = [];
  const re = /(-)?(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))/gy;
  let i = 0;
  while (i < q.length) {
    const ws = /\s+/y;
    ws.lastIndex = i;
    if (ws.exec(q)) {
      i = ws.lastIndex;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(q);
    if (!m) break;
    i = re.lastIndex;
    const [, neg, key, quoted, bare] = m;
    const k = key?.toLowerCase() ?? null;
    if (k && !OPERATORS.has(k)) {
      // Not an operator: the whole run is a word (`https://…`, `12:30`, `note:`).
      out.push({ negated: !!neg, quoted: false, key: null, value: m[0].slice(neg ? 1 : 0) });
      continue;
    }
    const value = quoted ?? bare ?? '';
    if (value === '' && !k) continue;
    out.push({ negated: !!neg, quoted: quoted !== undefined, key: k, value });
  }
  return out;
}

function day(key: string, value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value)
    throw invalid(`${key}: takes a date as YYYY-MM-DD, not "${value.slice(0, 40)}"`);
  return d;
}

/** A run of letters and digits joined by `_ . @ / : + -`: what the document also indexes as its parts. */
const IDENTIFIER = /[\p{L}\p{N}]+(?:[_.@/:+-]+[\p{L}\p{N}]+)+/u;

/**
 * A free term as the search vector knows it (migration 0025, `parley_search_document`): an
 * identifier becomes its parts in order (`foo_bar.baz` → `foo bar baz`, searched as a phrase),
 * and `<`, `>` are blanks, since chat text is plain text and not HTML. Anything else is as typed.
 */
export function searchTerm(value: string): string {
  const plain = value.replace(/[<>]/g, ' ').trim();
  if (!IDENTIFIER.test(plain)) return plain === value ? value : plain;
  return plain.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** `@ann` → `ann`; `#general` → `general`. */
const strip = (v: string, sigil: string) => (v.startsWith(sigil) ? v.slice(1) : v);

export function parseQuery(q: string): ParsedQuery {
  const p: ParsedQuery = {
    text: '',
    words: [],
    positive: false,
    substrings: [],
    notSubstrings: [],
    from: [],
    in: [],
    to: [],
    mentions: [],
    has: new Set(),
    is: new Set(),
    since: null,
    until: null,
  };
  const words: string[] = [];
  const tokens = tokenize(q);
  if (tokens.length > MAX_TERMS) throw invalid(`A search takes at most ${MAX_TERMS} terms`);
  for (const t of tokens) {
    if (t.key === null) {
      if (UNSPACED.test(t.value)) {
        (t.negated ? p.notSubstrings : p.substrings).push(t.value);
        continue;
      }
      // websearch_to_tsquery syntax; quotes inside a phrase cannot occur (the tokenizer ends it).
      // An identifier (`foo_bar`, `ann.lee`, a URL with its scheme) is the phrase of its parts,
      // as the document indexes them (searchTerm); `<` and `>` are blanks, as in the document.
      const term = searchTerm(t.value);
      if (term === '') continue;
      const body = t.quoted || term !== t.value ? `"${term}"` : term;
      words.push(t.negated ? `-${body}` : body);
      if (t.value !== 'OR') p.words.push({ text: t.value, negated: t.negated });
      if (!t.negated && t.value !== 'OR' && /[\p{L}\p{N}]/u.test(t.value)) p.positive = true;
      continue;
    }
    if (t.negated) throw invalid(`${t.key}: cannot be negated`);
    if (t.value === '') throw invalid(`${t.key}: needs a value`);
    switch (t.key) {
      case 'from':
      case 'to':
      case 'mentions':
        p[t.key].push(strip(t.value, '@'));
        break;
      case 'in':
        p.in.push(strip(t.value, '#'));
        break;
      case 'has': {
        const v = t.value.toLowerCase();
        if (!(HAS as readonly string[]).includes(v)) throw invalid(`has: takes ${HAS.join(', ')}`);
        p.has.add(v as Has);
        break;
      }
      case 'is': {
        const v = t.value.toLowerCase();
        if (!(IS as readonly string[]).includes(v)) throw invalid(`is: takes ${IS.join(', ')}`);
        p.is.add(v as Is);
        break;
      }
      case 'before': {
        const d = day('before', t.value);
        p.until = p.until && p.until < d ? p.until : d;
        break;
      }
      case 'after': {
        const d = new Date(day('after', t.value).getTime() + DAY_MS);
        p.since = p.since && p.since > d ? p.since : d;
        break;
      }
      case 'on': {
        const d = day('on', t.value);
        const end = new Date(d.getTime() + DAY_MS);
        p.since = p.since && p.since > d ? p.since : d;
        p.until = p.until && p.until < end ? p.until : end;
        break;
      }
    }
  }
  p.text = words.join(' ');
  return p;
}

/** Whether the query asks for anything at all (an empty search is refused, not a full scan). */
export function isEmptyQuery(p: ParsedQuery): boolean {
  return (
    !p.positive &&
    p.substrings.length === 0 &&
    p.from.length + p.in.length + p.to.length + p.mentions.length === 0 &&
    p.has.size + p.is.size === 0 &&
    !p.since &&
    !p.until
  );
}

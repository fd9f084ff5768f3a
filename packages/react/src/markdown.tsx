/**
 * Safe message text rendering. Two layers, so one mistake is not enough for script to run:
 *
 * 1. markdown-it with `html: false` (raw HTML in a message is escaped, never parsed), images
 *    disabled (no remote loads, no tracking pixels), and a `validateLink` that accepts only
 *    http:, https: and mailto: — a link to anything else stays literal text.
 * 2. DOMPurify over the resulting HTML, wherever a DOM exists, with the same URL allow-list.
 *    Without a DOM (server-side rendering) layer 1 alone applies. DOMPurify's authors support
 *    real browsers and jsdom, not happy-dom (cure53/DOMPurify#1457): in happy-dom this layer
 *    runs but proves nothing, so the tests check layer 1 on its own as well.
 *
 * Links open in a new tab with `rel="noopener noreferrer nofollow"`; `@username` mentions
 * become `<span class="parley-mention">` (and `parley-mention--me` for the viewer).
 */
import createDOMPurify, { type DOMPurify, type WindowLike } from 'dompurify';
import markdownit, { type MarkdownIt, type StateCore, type Token } from 'markdown-it';
import { memo, useMemo } from 'react';
import { cx } from './format.js';

const SAFE_URL = /^(?:https?:|mailto:)/i;
// As the server parses mentions: `@name` not preceded by a word character, `.`, `@` or `-`;
// a trailing `.` or `-` is punctuation, not part of the name.
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]*[A-Za-z0-9_])/g;

interface MentionEnv {
  /** Lower-cased names that are the viewer: their username and their groups' handles. */
  me?: readonly string[];
  /** Custom emoji: name → image URL (custom-emoji.tsx). */
  emoji?: Readonly<Record<string, string>> | null;
}

/** Where custom emoji images are served (features/emoji): the only image source text may show. */
const EMOJI_URL = /^https?:\/\/[^\s"'<>]+\/v1\/emoji\/images\/[0-9a-f-]{36}$/;

// `:shortcode:` not inside a word; the name as the server allows it (features/emoji).
const SHORTCODE = /(^|[^A-Za-z0-9_:])(:([a-z0-9_+-]{2,32}):)(?![A-Za-z0-9_])/g;

/** Known `:shortcode:`s in text become custom emoji tokens (unknown ones stay text). */
function emojiRule(state: StateCore): void {
  const map = (state.env as MentionEnv | undefined)?.emoji;
  if (!map) return;
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const out: Token[] = [];
    let inLink = 0;
    let changed = false;
    for (const t of block.children) {
      if (t.type === 'link_open') inLink++;
      else if (t.type === 'link_close') inLink--;
      if (t.type !== 'text' || inLink > 0 || !t.content.includes(':')) {
        out.push(t);
        continue;
      }
      let last = 0;
      for (const m of t.content.matchAll(SHORTCODE)) {
        const name = m[3] as string;
        if (!map[name]) continue;
        const start = (m.index ?? 0) + (m[1] as string).length;
        if (start > last) out.push(textToken(state, t.content.slice(last, start), t.level));
        const tok = new state.Token('parley_emoji', '', 0);
        tok.content = name;
        tok.level = t.level;
        out.push(tok);
        last = start + (m[2] as string).length;
        changed = true;
      }
      if (last === 0) out.push(t);
      else if (last < t.content.length) out.push(textToken(state, t.content.slice(last), t.level));
    }
    if (changed) block.children = out;
  }
}

function mentionRule(state: StateCore): void {
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const out: Token[] = [];
    let inLink = 0;
    let changed = false;
    for (const t of block.children) {
      if (t.type === 'link_open') inLink++;
      else if (t.type === 'link_close') inLink--;
      if (t.type !== 'text' || inLink > 0 || !t.content.includes('@')) {
        out.push(t);
        continue;
      }
      let last = 0;
      for (const m of t.content.matchAll(MENTION)) {
        const start = (m.index ?? 0) + (m[1] as string).length;
        const name = m[2] as string;
        if (start > last) out.push(textToken(state, t.content.slice(last, start), t.level));
        const tok = new state.Token('parley_mention', '', 0);
        tok.content = name;
        tok.level = t.level;
        out.push(tok);
        last = start + 1 + name.length;
        changed = true;
      }
      if (last === 0) out.push(t);
      else if (last < t.content.length) out.push(textToken(state, t.content.slice(last), t.level));
    }
    if (changed) block.children = out;
  }
}

function textToken(state: StateCore, content: string, level: number): Token {
  const t = new state.Token('text', '', 0);
  t.content = content;
  t.level = level;
  return t;
}

function createMarkdown(): MarkdownIt {
  const md = markdownit({ html: false, linkify: true, breaks: true, typographer: false });
  md.disable('image');
  md.validateLink = (url: string) => SAFE_URL.test(url.trim());
  md.core.ruler.after('text_join', 'parley_mention', mentionRule);
  md.core.ruler.after('parley_mention', 'parley_emoji', emojiRule);
  const escapeHtml = md.utils.escapeHtml;
  md.renderer.rules.parley_emoji = (tokens, idx, _options, env) => {
    const name = (tokens[idx] as Token).content;
    const url = (env as MentionEnv | undefined)?.emoji?.[name] ?? '';
    if (!EMOJI_URL.test(url)) return `:${escapeHtml(name)}:`;
    return `<img class="parley-emoji" src="${escapeHtml(url)}" alt=":${escapeHtml(name)}:" title=":${escapeHtml(name)}:">`;
  };
  md.renderer.rules.parley_mention = (tokens, idx, _options, env) => {
    const name = (tokens[idx] as Token).content;
    const me = (env as MentionEnv | undefined)?.me;
    const mine = !!me && me.includes(name.toLowerCase());
    return `<span class="parley-mention${mine ? ' parley-mention--me' : ''}" data-mention="${escapeHtml(name)}">@${escapeHtml(name)}</span>`;
  };
  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    const t = tokens[idx] as Token;
    t.attrSet('target', '_blank');
    t.attrSet('rel', 'noopener noreferrer nofollow');
    return self.renderToken(tokens, idx, options);
  };
  return md;
}

let md: MarkdownIt | null = null;
let purifier: DOMPurify | null | undefined;

function getPurifier(): DOMPurify | null {
  if (purifier !== undefined) return purifier;
  const w = typeof window !== 'undefined' ? window : undefined;
  if (!w) return null; // no DOM now; try again next time (it may appear, e.g. in tests)
  const p = createDOMPurify(w as unknown as WindowLike);
  if (!p.isSupported) {
    purifier = null;
    return null;
  }
  p.addHook('afterSanitizeAttributes', (node) => {
    // The only images allowed are custom emoji (the renderer's, never the text's: raw HTML and
    // Markdown images are off): any other <img> is removed.
    if (node.nodeName === 'IMG') {
      const el = node as Element;
      if (el.getAttribute('class') !== 'parley-emoji' || !EMOJI_URL.test(el.getAttribute('src') ?? ''))
        el.parentNode?.removeChild(el);
      return;
    }
    if (node.nodeName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
  purifier = p;
  return p;
}

const cache = new Map<string, string>();
const CACHE_SIZE = 1000;

/**
 * Render message text to sanitized HTML (see the module comment for what is allowed).
 * `me` is the viewer's username (or several names: theirs and their user groups' handles), whose
 * mentions get `parley-mention--me`. Results are cached.
 */
export function renderMarkdown(
  text: string,
  options: { me?: string | readonly string[] | null; emoji?: Readonly<Record<string, string>> | null } = {},
): string {
  const names = (typeof options.me === 'string' ? [options.me] : (options.me ?? [])).map((n) => n.toLowerCase());
  const emoji = options.emoji && Object.keys(options.emoji).length ? options.emoji : null;
  // Text without a `:` renders the same with or without emoji: keep one cache entry for it.
  const emojiKey = emoji && text.includes(':') ? JSON.stringify(emoji) : '';
  const key = `${names.join(' ')}\u0000${emojiKey}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  md ??= createMarkdown();
  const raw = md.render(text, { me: names, emoji } satisfies MentionEnv);
  const p = getPurifier();
  const html = p
    ? p.sanitize(raw, {
        ALLOWED_URI_REGEXP: SAFE_URL,
        ADD_ATTR: ['target'],
        FORBID_TAGS: ['style', 'svg', 'math', 'form', 'input', 'iframe'],
      })
    : raw;
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, html);
  return html;
}

/** Props of {@link Markdown}. */
export interface MarkdownProps {
  /** The message text (Markdown). */
  text: string;
  /** The viewer's username (or names: theirs and their groups' handles), to highlight their mentions. */
  me?: string | readonly string[] | null;
  /** Custom emoji (name → image URL): their `:shortcode:`s show as images. */
  emoji?: Readonly<Record<string, string>> | null;
  className?: string;
}

/** Message text rendered as safe Markdown (see {@link renderMarkdown}). */
export const Markdown = memo(function Markdown({ text, me, emoji, className }: MarkdownProps) {
  const html = useMemo(() => renderMarkdown(text, { me: me ?? null, emoji: emoji ?? null }), [text, me, emoji]);
  return (
    <div
      className={cx('parley-markdown', className)}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: the HTML is markdown-it output with raw HTML disabled, sanitized again by DOMPurify
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
});

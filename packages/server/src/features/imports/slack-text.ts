/**
 * Slack's message markup turned into Parley's text (markdown): `*bold*` → `**bold**`, `~strike~`
 * → `~~strike~~` (`_italic_`, code, ``` blocks and `>` quotes are the same in both; nothing
 * inside code changes), `<@U1>` → `@ada`, `<#C1|general>` →
 * `#general`, `<url|label>` → `[label](url)`, `<!here>` → `@here`, and the three HTML entities
 * Slack escapes (`&amp;` `&lt;` `&gt;`) unescaped — last, so an escaped `&lt;@U1&gt;` written by
 * a person stays text and is never read as a mention.
 */

export interface SlackTextContext {
  /** Slack user id → how the mention is written (`ada` for `@ada`) and the Parley user id. */
  user(slackId: string): { handle: string; userId: string } | null;
  /** Slack channel id → its name, when the export has it. */
  channel(slackId: string): string | null;
}

export interface ConvertedText {
  text: string;
  mentionedUsers: string[];
  here: boolean;
  channel: boolean;
}

// A token's target (before `|`) has no spaces: Slack escapes a typed `<`, so `< b >` is not one.
const TOKEN = /<([^<>|\s]+(?:\|[^<>]*)?)>/g;

const unescapeEntities = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// Slack's emphasis: the marker after a start or a space (or an opening bracket or quote), the
// text on one line not starting or ending with a space, the marker before an end, a space or
// punctuation — so `a*b*c`, `2 * 3 * 4` and the `~` of a URL stay as they are.
const BOLD = /(^|[\s([{"'])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s.,;:!?)\]}"'])/g;
const STRIKE = /(^|[\s([{"'])~(?=\S)([^~\n]*?\S)~(?=$|[\s.,;:!?)\]}"'])/g;
// Code: fenced blocks first, then inline spans; their insides are left exactly as written.
const CODE = /```[\s\S]*?```|`[^`\n]+`/g;

/** Slack's `*bold*` and `~strike~` as markdown, outside code. */
export function convertSlackEmphasis(raw: string): string {
  const outside = (t: string) => t.replace(BOLD, '$1**$2**').replace(STRIKE, '$1~~$2~~');
  let out = '';
  let at = 0;
  for (const m of raw.matchAll(CODE)) {
    out += outside(raw.slice(at, m.index)) + m[0];
    at = m.index + m[0].length;
  }
  return out + outside(raw.slice(at));
}

export function convertSlackText(source: string, ctx: SlackTextContext): ConvertedText {
  const raw = convertSlackEmphasis(source);
  const mentioned: string[] = [];
  let here = false;
  let channel = false;
  const token = (inner: string): string => {
    const bar = inner.indexOf('|');
    const target = bar === -1 ? inner : inner.slice(0, bar);
    const label = bar === -1 ? null : inner.slice(bar + 1);
    if (target.startsWith('@')) {
      const u = ctx.user(target.slice(1));
      if (!u) return `@${unescapeEntities(label ?? target.slice(1))}`;
      if (!mentioned.includes(u.userId)) mentioned.push(u.userId);
      return `@${u.handle}`;
    }
    if (target.startsWith('#')) return `#${ctx.channel(target.slice(1)) ?? unescapeEntities(label ?? target.slice(1))}`;
    if (target.startsWith('!')) {
      const what = target.slice(1);
      if (what === 'here') {
        here = true;
        return '@here';
      }
      if (what === 'channel' || what === 'everyone') {
        channel = true;
        return `@${what}`;
      }
      // `<!subteam^S1|@team>`, `<!date^…|fallback>`: the label is what Slack shows.
      return unescapeEntities(label ?? what);
    }
    const url = unescapeEntities(target);
    if (url.startsWith('mailto:')) return unescapeEntities(label ?? url.slice('mailto:'.length));
    if (label === null || unescapeEntities(label) === url) return url;
    return `[${unescapeEntities(label)}](${url})`;
  };
  // Text between tokens is unescaped once; a token's parts are unescaped where they are used.
  let text = '';
  let at = 0;
  for (const m of raw.matchAll(TOKEN)) {
    text += unescapeEntities(raw.slice(at, m.index)) + token(m[1] as string);
    at = m.index + m[0].length;
  }
  text += unescapeEntities(raw.slice(at));
  return { text, mentionedUsers: mentioned, here, channel };
}

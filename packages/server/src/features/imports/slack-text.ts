/**
 * Slack's message markup turned into Parley's text: `<@U1>` → `@ada`, `<#C1|general>` →
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

export function convertSlackText(raw: string, ctx: SlackTextContext): ConvertedText {
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

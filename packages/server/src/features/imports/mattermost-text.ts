/**
 * Mattermost's message text as Parley's: both are markdown, so only mentions and channel links
 * change. `@name` of a person of the export becomes `@<their handle here>` (their username here,
 * which may differ: a name already taken gets a suffix) and lists them in `mentioned_users`;
 * `@here` stays, and `@channel`/`@all` become `@channel` (Parley's word for everyone in the
 * channel); `~town-square`, a link to a channel of the team, becomes `#town-square`. Nothing
 * inside code (fenced blocks, inline spans) changes, and a name that is nobody's stays as written.
 *
 * The mention grammar is the server's (features/users/mentions.ts): `@` not preceded by a name
 * character (so `ada@example.com` is an address), the name of `[A-Za-z0-9_.-]`, trailing dots and
 * dashes not part of it (`@ada.` ends a sentence).
 */

export interface MattermostTextContext {
  /** A Mattermost username → how a mention of them is written here and their user id. */
  user(username: string): { handle: string; userId: string } | null;
  /** A channel of the team, by its Mattermost name → how a link to it is written here. */
  channel?(name: string): string | null;
}

export interface ConvertedText {
  text: string;
  mentionedUsers: string[];
  here: boolean;
  channel: boolean;
}

const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{1,64})/g;
// `~town-square` links a channel in Mattermost (`#` here); `~~strike~~` is no link.
const CHANNEL_LINK = /(^|[^A-Za-z0-9_~-])~([a-z0-9][a-z0-9_-]{0,63})/g;
// Code: fenced blocks first, then inline spans; their insides are left exactly as written.
const CODE = /```[\s\S]*?```|`[^`\n]+`/g;

export function convertMattermostText(source: string, ctx: MattermostTextContext): ConvertedText {
  const mentioned: string[] = [];
  let here = false;
  let channel = false;
  const outside = (t: string) =>
    t
      .replace(CHANNEL_LINK, (all, before: string, name: string) => {
        const here = ctx.channel?.(name);
        return here ? `${before}#${here}` : all;
      })
      .replace(MENTION, (all, before: string, word: string) => {
        const name = word.replace(/[.-]+$/, '');
        const rest = word.slice(name.length);
        const lower = name.toLowerCase();
        if (lower === 'here') {
          here = true;
          return all;
        }
        if (lower === 'channel' || lower === 'all' || lower === 'everyone') {
          channel = true;
          return `${before}@${lower === 'all' ? 'channel' : name}${rest}`;
        }
        const u = name ? ctx.user(lower) : null;
        if (!u) return all;
        if (!mentioned.includes(u.userId)) mentioned.push(u.userId);
        return `${before}@${u.handle}${rest}`;
      });
  let text = '';
  let at = 0;
  for (const m of source.matchAll(CODE)) {
    text += outside(source.slice(at, m.index)) + m[0];
    at = m.index + m[0].length;
  }
  text += outside(source.slice(at));
  return { text, mentionedUsers: mentioned, here, channel };
}

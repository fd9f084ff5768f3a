/**
 * Mentions, parsed on the server from the text as written: @username (users' handles), @here,
 * @channel and @everyone. Here with the users they name, below messages (the send path), the
 * inbox and moderation's automod, which all read them.
 */

const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{1,64})/g;
const SPECIAL = new Set(['here', 'channel', 'everyone']);

/**
 * The words no username or group handle may be (features/users/names.ts): those the parser reads
 * as a mention of many, and `all`, which other chat tools read so (an import or a habit brings it).
 */
export const MENTION_KEYWORDS: ReadonlySet<string> = new Set([...SPECIAL, 'all']);

export interface ParsedMentions {
  /** Lower-cased usernames, without the specials. */
  usernames: string[];
  here: boolean;
  channel: boolean;
}

export function parseMentions(text: string): ParsedMentions {
  const usernames = new Set<string>();
  let here = false;
  let channel = false;
  for (const m of text.matchAll(MENTION)) {
    const name = (m[2] as string).replace(/[.-]+$/, '').toLowerCase();
    if (!name) continue;
    if (name === 'here') here = true;
    else if (name === 'channel' || name === 'everyone') channel = true;
    else if (!SPECIAL.has(name)) usernames.add(name);
  }
  return { usernames: [...usernames], here, channel };
}

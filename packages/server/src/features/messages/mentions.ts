/** Mentions, parsed on the server from the text as written. */

const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{1,64})/g;
const SPECIAL = new Set(['here', 'channel', 'everyone']);

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

/** A message's mentions, resolved against the channel's members. */
export interface Mentions {
  /** Members mentioned by @username. */
  users: string[];
  /** Members present when the message said @here. */
  here: string[];
  hereFlag: boolean;
  /** @channel / @everyone. */
  channel: boolean;
}

/** Who a message notifies, and why: @here (present members), then @name over it; never the author. */
export function mentionReasons(m: Mentions, authorId: string, skip: ReadonlySet<string> = new Set()) {
  const reasons = new Map<string, 'mention' | 'here'>();
  for (const id of m.here) reasons.set(id, 'here');
  for (const id of m.users) reasons.set(id, 'mention');
  reasons.delete(authorId);
  for (const id of skip) reasons.delete(id);
  return reasons;
}

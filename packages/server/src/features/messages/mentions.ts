/** Who a message's mentions reach (the text's own are parsed by users/mentions.ts, `parseMentions`). */

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

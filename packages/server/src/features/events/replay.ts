import type { Caller } from '../../platform/auth.js';
import { readEvents } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { accessChannelRead } from '../channels/index.js';
import { seesAllShadowed } from '../moderation/index.js';

export interface Replay {
  frames: string[];
  lastSeq: number;
  /** The highest seq covered (read, whether sent or left out as hidden from the caller). */
  readTo: number;
  /** More than `maxReplay` events were missed: reload the channel instead. */
  reload: boolean;
  hasMore: boolean;
}

/**
 * What a client that has seen up to `after` missed in a channel, or a reload signal. Without
 * `hasMore`, everything up to `lastSeq` was read (a shadowed event left out is still passed).
 */
export async function replay(
  svc: Services,
  caller: Caller,
  cid: string,
  after: number,
  limit: number,
  upTo?: number,
): Promise<Replay> {
  const a = await accessChannelRead(svc.db, caller, cid);
  const lastSeq = a.channel.lastSeq;
  const end = upTo ?? lastSeq;
  if (end - after > svc.config.maxReplay) return { frames: [], lastSeq, readTo: after, reload: true, hasMore: false };
  const rows = await readEvents(svc, caller.app.id, cid, after, limit + 1, end);
  const hasMore = rows.length > limit;
  let page = rows.slice(0, limit);
  const readTo = hasMore ? (page.at(-1)?.seq ?? after) : Math.max(after, end);
  // Events about shadowed messages only for their author and moderators (moderation/shadow.ts);
  // the client moves its seq to `last_seq` when nothing more is left, so the hole is no gap.
  if (page.some((r) => r.shadowOf && r.shadowOf !== caller.userId) && !(await seesAllShadowed(svc.db, caller)))
    page = page.filter((r) => !r.shadowOf || r.shadowOf === caller.userId);
  return { frames: page.map((r) => r.frame), lastSeq, readTo, reload: false, hasMore };
}

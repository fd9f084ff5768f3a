import type { Caller } from '../../platform/auth.js';
import type { Services } from '../../services.js';
import { accessChannelRead } from '../channels/access.js';
import { readEvents } from './log.js';

export interface Replay {
  frames: string[];
  lastSeq: number;
  /** More than `maxReplay` events were missed: reload the channel instead. */
  reload: boolean;
  hasMore: boolean;
}

/** What a client that has seen up to `after` missed in a channel, or a reload signal. */
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
  if (end - after > svc.config.maxReplay) return { frames: [], lastSeq, reload: true, hasMore: false };
  const rows = await readEvents(svc, caller.app.id, cid, after, limit + 1, end);
  const hasMore = rows.length > limit;
  return { frames: rows.slice(0, limit).map((r) => r.frame), lastSeq, reload: false, hasMore };
}

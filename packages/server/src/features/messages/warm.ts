/**
 * Channel rows read ahead of a first send. A send is checked against the rows this node keeps
 * (access-cache.ts); a connection's opening read brings the user's row and their role in each
 * channel, but not the channels' rows, so the first send into each channel after a node starts
 * read that row before its write: a second statement, and in a batch, every send beside it
 * waited for it too (docs/benchmarks.md: in the chat mix, such sends were the slowest 2 % of
 * deliveries). Once a connection has opened, the rows of its channels that the node does not
 * keep are read here, after the hello, with every other connect of the turn (one statement on
 * the read lane, `platform/tick-batch.ts`); a reconnect storm into a node that keeps them reads
 * nothing. Best effort: a failed read only leaves the first send to read for itself.
 */
import type { Infra } from '../../infra.js';
import { hotStatement } from '../../platform/db/index.js';
import { TickBatcher } from '../../platform/tick-batch.js';
import { type AccessCache, channelDigest, type RawRow } from './access-cache.js';

/** Most channels one connect reads ahead (a user in thousands of channels sends into a few). */
export const WARM_MAX = 64;

/** Channel rows by key, with the digest the write compares (as the send read returns them). */
const CHANNEL_ROWS = hotStatement({
  name: 'parley_send_channel_rows',
  lane: 'read',
  reads: { channels: 'channels_app_id_cid_pk' },
  text: `select p.ord, to_json(c) as channel, ${channelDigest('to_jsonb(c)')} as channel_digest
from json_to_recordset($1::json) as p(ord int, app_id uuid, cid text)
cross join lateral (
  select * from channels c where c.app_id = p.app_id and c.cid between p.cid and p.cid order by c.cid limit 1
) c`,
});

interface Wanted {
  appId: string;
  cid: string;
}

export class ChannelWarmer {
  /** Channels (app:cid) being read now, so two connects of one turn read each once. */
  private readonly reading = new Set<string>();
  private readonly batcher: TickBatcher<Wanted, undefined>;

  constructor(
    private readonly svc: () => Infra,
    private readonly cache: AccessCache,
  ) {
    this.batcher = new TickBatcher((items) => this.read(items), {
      // One read at a time: the read lane also carries the connects' own opening reads.
      maxInFlight: 1,
      maxBatch: 256,
      lingerMs: 2,
    });
  }

  /** Read ahead the rows of `cids` (a user's channels, just connected) this node does not keep. */
  warm(appId: string, cids: readonly string[]): void {
    let taken = 0;
    for (const cid of cids) {
      if (taken === WARM_MAX) break;
      const key = `${appId}:${cid}`;
      if (this.reading.has(key) || this.cache.hasChannel(appId, cid)) continue;
      taken++;
      this.reading.add(key);
      this.batcher
        .add({ appId, cid })
        .catch((err: unknown) => this.svc().log.debug({ err }, 'channel rows not read ahead'))
        .finally(() => this.reading.delete(key));
    }
  }

  /** Resolves once every read asked for so far has been done (tests). */
  settled(): Promise<void> {
    return this.batcher.settled();
  }

  private async read(items: Wanted[]): Promise<undefined[]> {
    const input = items.map((w, ord) => ({ ord, app_id: w.appId, cid: w.cid }));
    const rows = await this.svc().database.prepared<{ ord: number; channel: RawRow; channel_digest: string }>(
      CHANNEL_ROWS,
      [JSON.stringify(input)],
    );
    for (const r of rows) {
      const w = items[r.ord] as Wanted;
      this.cache.seedChannel(w.appId, w.cid, r.channel, r.channel_digest);
    }
    return items.map(() => undefined);
  }
}

/**
 * The bookmark job: a new link's card from the link preview pipeline (links/jobs.ts `cardOf`:
 * the cache, else a safe fetch within the adder's unfurl budget) gives the bookmark its site,
 * icon and — unless a member named it — its title; the channel hears the bar again. Idempotent:
 * a second run finds the card cached and writes the same values.
 */
import { and, eq } from 'drizzle-orm';
import { schema } from '../../platform/db/index.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { cardOf } from '../links/index.js';
import { announceBookmarks } from './actions.js';
import { UNFURL_BOOKMARK } from './job-names.js';

export async function defineBookmarkJobs(svc: Services): Promise<void> {
  if (!svc.config.linkPreviews) return;
  await svc.jobs.define<{ appId: string; id: string; userId: string }>({
    name: UNFURL_BOOKMARK.name,
    retryLimit: 3,
    retryDelaySeconds: 10,
    expireInSeconds: 120,
    concurrency: 2,
    run: async ({ appId, id, userId }) => {
      const b = schema.channelBookmarks;
      const [row] = await svc.db
        .select()
        .from(b)
        .where(and(eq(b.appId, appId), eq(b.id, id)));
      if (!row?.url) return;
      const card = await cardOf(svc, appId, row.url, userId);
      if (card?.status !== 'ok') return;
      await withTransaction(svc, async (tx, out) => {
        const [moved] = await tx
          .update(b)
          .set({
            ...(row.titleSet || !card.title ? {} : { title: card.title.slice(0, 200) }),
            siteName: card.siteName,
            // The site's favicon (never the page's picture: a header chip is an icon's size).
            iconUrl: card.icon?.thumbs?.['360'] ?? card.icon?.url ?? null,
          })
          .where(and(eq(b.appId, appId), eq(b.id, id)))
          .returning({ cid: b.cid });
        if (moved) await announceBookmarks(tx, out, appId, moved.cid, svc.clock());
      });
    },
  });
}

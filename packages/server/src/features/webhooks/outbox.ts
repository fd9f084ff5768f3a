/**
 * The webhook outbox: inside the transaction of a change, each committed channel event an
 * endpoint wants becomes a delivery row — it commits or rolls back with the event, so a crash
 * loses nothing and a rollback sends nothing — and after the commit the (endpoint, channel)
 * lanes it landed in are woken in the node's pump (pump.ts; a crash in between is caught by
 * its sweep). Apps without endpoints pay nothing: their settings come from memory. Plain sends
 * do not come here: the group commit's statement writes their deliveries itself
 * (messages/send-batch.ts, the same body) and wakes their lanes the same way.
 *
 * User-level events (`user.updated`, `user.deleted`, `user.banned`, `user.unbanned`: actions
 * put them in the outbox as `to: 'webhooks'`) go the same way in a lane per (endpoint, user),
 * `user:<id>` — no cid can look like that — so an endpoint gets each user's changes in order.
 * App-wide events (`emoji.updated`, `user_group.updated`: `to: 'app'`) share one lane, `app:`;
 * a channel's bookmarks and notes (not in its log) ride its lane with the log's events.
 */
import { randomUUID } from 'node:crypto';
import { LOGGED_EVENT_TYPES, WEBHOOK_CHANNEL_STATE_EVENT_TYPES } from '@parley/protocol';
import { schema, type Tx } from '../../platform/db/index.js';
import type { Outgoing } from '../../realtime/bus.js';
import type { LaneRef } from './pump.js';
import type { HookRegistry } from './settings.js';
import { wants } from './signature.js';

/** The channel events endpoints get: the log's, and a channel's bookmarks and notes. */
const CHANNEL_HOOKED = new Set<string>([...LOGGED_EVENT_TYPES, ...WEBHOOK_CHANNEL_STATE_EVENT_TYPES]);

/** The delivery lane of a user's events (cids are `type:id` with fixed types, never `user`). */
export const userLane = (userId: string) => `user:${userId}`;
/** The lane of app-wide events (`emoji.updated`): one per endpoint, in commit order. */
export const APP_LANE = 'app:';

/** The body every endpoint gets for one event (the same bytes, signed per endpoint). */
export function webhookBody(
  appId: string,
  type: string,
  cid: string | null,
  seq: number | null,
  frame: string,
  at: string,
) {
  const eventId = cid !== null && seq !== null ? `${cid}:${seq}` : randomUUID();
  return `{"event_id":${JSON.stringify(eventId)},"type":${JSON.stringify(type)},"app_id":${JSON.stringify(appId)},"created_at":${JSON.stringify(at)},"event":${frame}}`;
}

/**
 * Record deliveries for what `out` will publish; answers a function to call after commit
 * (wakes their lanes), or null when nothing was recorded.
 */
export async function recordDeliveries(
  hooks: HookRegistry,
  tx: Tx,
  out: readonly Outgoing[],
  wake: (lanes: LaneRef[]) => void,
): Promise<(() => void) | null> {
  const rows: (typeof schema.webhookDeliveries.$inferInsert)[] = [];
  const lanes = new Map<string, LaneRef>();
  const byApp = new Map<string, Outgoing[]>();
  // Events about a shadowed message (moderation/shadow.ts) go to no webhook.
  for (const o of out)
    if (
      (o.to === 'channel' && CHANNEL_HOOKED.has(o.event.type) && !o.shadowOf) ||
      o.to === 'webhooks' ||
      o.to === 'app'
    )
      byApp.set(o.appId, [...(byApp.get(o.appId) ?? []), o]);
  for (const [appId, events] of byApp) {
    const { endpoints } = await hooks.get(appId, tx);
    if (endpoints.length === 0) continue;
    for (const o of events) {
      if (o.to !== 'channel' && o.to !== 'webhooks' && o.to !== 'app') continue;
      const e = o.event as { type: string; seq?: number; created_at?: string };
      const targets = endpoints.filter((ep) => wants(ep.events, e.type));
      if (targets.length === 0) continue;
      const body =
        o.to === 'channel'
          ? webhookBody(
              appId,
              e.type,
              o.cid,
              e.seq ?? null,
              o.frame ?? JSON.stringify(o.event),
              e.created_at ?? new Date().toISOString(),
            )
          : webhookBody(appId, e.type, null, null, JSON.stringify(o.event), e.created_at ?? new Date().toISOString());
      const lane = o.to === 'channel' ? o.cid : o.to === 'app' ? APP_LANE : userLane(o.userId);
      for (const ep of targets) {
        rows.push({ appId, id: randomUUID(), endpointId: ep.id, lane, eventType: e.type, body });
        lanes.set(`${ep.id}\n${lane}`, { appId, endpointId: ep.id, lane });
      }
    }
  }
  if (rows.length === 0) return null;
  await tx.insert(schema.webhookDeliveries).values(rows);
  return () => wake([...lanes.values()]);
}

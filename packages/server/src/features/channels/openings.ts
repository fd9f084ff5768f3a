/**
 * What a connection reads when it opens, for every connect of one turn of the event loop at
 * once. Apart from the socket handlers (socket.ts) so that `Services` can name the batcher's
 * types without an import cycle.
 */
import type { Infra } from '../../infra.js';
import { fromJson, hotStatement, rowDigest, schema } from '../../platform/db/index.js';
import type { DndPrefs, Opening } from '../../realtime/opening.js';
import { appBanned } from '../permissions/index.js';
import { presentUser } from '../users/index.js';

/** Whose connection opens: the tenant and the user the token names. */
export interface OpeningRead {
  appId: string;
  userId: string;
}

/**
 * The openings' read: per connect the user row, and beside it every channel they are a member
 * of with its last seq and their role there (aggregated as text and parsed here: the two
 * drivers return json columns differently). A hot statement (platform/db/hot.ts) that reads
 * every connect of one turn of the event loop at once (`svc.openings`, platform/tick-batch.ts):
 * a connect storm or a reconnect storm is thousands of them in seconds, and one statement each
 * — its socket write to the database above all — was the largest part of a connect's CPU after
 * the upgrade. Reached through the user's key, the index of a user's memberships, and each
 * channel's key (a LATERAL probe, so no plan hashes `channels` whole).
 */
const OPENING = hotStatement({
  name: 'parley_open_connection',
  lane: 'read',
  reads: {
    users: 'users_app_id_id_pk',
    members: 'members_user_idx',
    channels: 'channels_app_id_cid_pk',
    notification_settings: 'notification_settings_app_id_user_id_pk',
  },
  text: `select p.ord, to_json(u) as "user", ${rowDigest('to_jsonb(u)')} as user_digest, coalesce((
  select json_agg(json_build_array(m.cid, c.last_seq, m.role))::text
  from members m
  cross join lateral (
    select c.last_seq from channels c where c.app_id = m.app_id and c.cid between m.cid and m.cid order by c.cid limit 1
  ) c
  where m.app_id = u.app_id and m.user_id = u.id
), '[]') as channels, (
  select json_build_array(ns.dnd_until, ns.dnd_schedule, ns.time_zone)::text
  from notification_settings ns where ns.app_id = u.app_id and ns.user_id between u.id and u.id
  order by ns.user_id limit 1
) as dnd
from json_to_recordset($1::json) as p(ord int, app_id uuid, uid text)
cross join lateral (
  select * from users u where u.app_id = p.app_id and u.id between p.uid and p.uid order by u.id limit 1
) u`,
});

/** The opening's `[dnd_until, dnd_schedule, time_zone]` (null: no settings row). */
function dndOf(raw: string | null): DndPrefs | null {
  if (!raw) return null;
  const [until, schedule, timeZone] = JSON.parse(raw) as [string | null, DndPrefs['dndSchedule'], string];
  return { dndUntil: until ? new Date(until) : null, dndSchedule: schedule ?? null, timeZone };
}

/** What an opening read of a user's rows, for the send path to check their sends against. */
export type SeedRows = (
  appId: string,
  user: Record<string, unknown>,
  /** The user row's digest (`rowDigest` of `to_jsonb(u)`). */
  digest: string,
  roles: [cid: string, role: string][],
) => void;

/**
 * Read a batch of openings with one statement; per read in order, the opening (null: no such
 * user). Each user row and their roles go to `seed` (the send path's `AccessCache`).
 */
export async function readOpenings(svc: Infra, reads: OpeningRead[], seed?: SeedRows): Promise<(Opening | null)[]> {
  const input = reads.map((r, ord) => ({ ord, app_id: r.appId, uid: r.userId }));
  const rows = await svc.database.prepared<{
    ord: number;
    user: Record<string, unknown>;
    user_digest: string;
    channels: string;
    dnd: string | null;
  }>(OPENING, [JSON.stringify(input)]);
  const out: (Opening | null)[] = reads.map(() => null);
  const now = svc.clock();
  for (const row of rows) {
    const user = fromJson(schema.users, row.user);
    if (!user) continue;
    const pairs = JSON.parse(row.channels) as [string, number | string, string][];
    seed?.(
      reads[row.ord]?.appId as string,
      row.user,
      row.user_digest,
      pairs.map(([cid, , role]) => [cid, role]),
    );
    out[row.ord] = {
      user: presentUser(user),
      channels: pairs.map(([cid, seq]) => ({ cid, lastSeq: Number(seq) })),
      banned: appBanned(user, now),
      deleted: user.deletedAt !== null,
      dnd: dndOf(row.dnd),
    };
  }
  return out;
}

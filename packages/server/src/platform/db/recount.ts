/**
 * SQL pieces that rewrite rows of several features where users' rows move or go (a user's
 * deletion in admin, a claim's merge in accounts): a parameter list, and the reaction summaries
 * of messages recomputed from the reactions table.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Queryable } from './types.js';

/** `(a, b, c)`: values as parameters, for `x in …`. Never empty: callers check first. */
export const inList = (values: readonly string[]): SQL =>
  sql`(${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;

/** Recompute `reaction_counts` and `latest_reactions` of messages `ids` from the reactions table. */
export async function recountReactions(q: Queryable, appId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.execute(sql`
    update messages m set
      reaction_counts = coalesce((select jsonb_object_agg(type, n) from
        (select type, count(*)::int as n from reactions r where r.app_id = m.app_id and r.message_id = m.id group by type) c),
        '{}'::jsonb),
      latest_reactions = coalesce((select jsonb_agg(jsonb_build_object('type', type, 'user_id', user_id,
          'created_at', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by created_at desc)
        from (select * from reactions r where r.app_id = m.app_id and r.message_id = m.id
              order by created_at desc limit 5) l), '[]'::jsonb)
    where m.app_id = ${appId} and m.id::text in ${inList(ids)}`);
}

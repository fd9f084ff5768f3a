/**
 * Pictures follow the deployment's public URL. A picture's URL is stored whole (`users.image`,
 * `workspaces.logo`: `<origin>/v1/images/{app_id}/{id}`, the origin being `PARLEY_PUBLIC_URL`,
 * or the upload request's own while none is set), because clients of every kind take it as it
 * is. When an operator then sets or changes the public URL — TLS put in front, a new domain, a
 * move to another machine — those URLs would name an address the browsers no longer use (on an
 * https page an http picture is blocked outright). So at start, when the public URL differs from
 * the one pictures were last moved to (`server_state` `pictures_origin`), every stored URL of a
 * picture this server holds (an `images` row of the same app, owner and id) is moved onto it, in
 * one transaction (a path without an origin, as an import without a public URL could leave, too).
 * URLs of pictures elsewhere (a CDN, another server) are never touched.
 */
import { sql } from 'drizzle-orm';
import { type Queryable, rows, schema } from '../../platform/db/index.js';
import { withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';

const KEY = 'pictures_origin';

/**
 * Move the stored URLs of this server's pictures onto `origin` (no trailing slash); answers how
 * many moved. Idempotent: a URL already there is left.
 */
export async function movePictures(q: Queryable, origin: string): Promise<number> {
  const moved = await rows<{ n: number }>(
    q,
    sql`with u as (
        update ${schema.users} u set image = ${origin} || '/v1/images/' || i.app_id || '/' || i.id
        from ${schema.images} i
        where i.owner_kind = 'user' and i.app_id = u.app_id and i.owner_id = u.id
          and u.image ~ ('^(https?://[^/]+)?/v1/images/' || i.app_id || '/' || i.id || '$')
          and u.image <> ${origin} || '/v1/images/' || i.app_id || '/' || i.id
        returning 1
      ),
      w as (
        update ${schema.workspaces} w set logo = ${origin} || '/v1/images/' || i.app_id || '/' || i.id
        from ${schema.images} i
        where i.owner_kind = 'workspace' and i.app_id = w.app_id
          and w.logo ~ ('^(https?://[^/]+)?/v1/images/' || i.app_id || '/' || i.id || '$')
          and w.logo <> ${origin} || '/v1/images/' || i.app_id || '/' || i.id
        returning 1
      )
      select ((select count(*) from u) + (select count(*) from w))::int as n`,
  );
  return Number(moved[0]?.n ?? 0);
}

/**
 * At start: when `PARLEY_PUBLIC_URL` is set and is not the origin pictures were last moved to,
 * move them (and remember it). Answers how many moved (0 when nothing was to do). Safe on
 * several nodes starting at once: the move is idempotent.
 */
export async function followPublicUrl(svc: Services): Promise<number> {
  const origin = svc.config.publicUrl?.replace(/\/+$/, '');
  if (!origin) return 0;
  const [last] = await rows<{ value: string }>(
    svc.db,
    sql`select value from ${schema.serverState} where name = ${KEY}`,
  );
  if (last?.value === origin) return 0;
  const moved = await withTransaction(svc, async (tx) => {
    const n = await movePictures(tx, origin);
    await tx.execute(
      sql`insert into ${schema.serverState} (name, value) values (${KEY}, ${origin})
        on conflict (name) do update set value = excluded.value, updated_at = now()`,
    );
    return n;
  });
  if (moved > 0) svc.log.info({ moved, origin }, 'pictures moved to the public URL');
  return moved;
}

/**
 * The attachments step of the send path (messages/actions.ts `sendOne` calls it inside the
 * send's transaction, after the channel's seq is taken): claim each named upload for the new
 * message, all or none. Kept here, beside the files feature, so the send path itself only
 * gains one call.
 */
import type { Attachment } from '@parley/protocol';
import { type SQL, sql } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { type Queryable, rows, schema, type Tx } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import { EXPIRE_UPLOAD } from './job-names.js';
import { type FileRow, presentAttachment } from './present.js';

/**
 * Claim uploads `ids` (in that order) for message `messageId`: each must be the sender's own
 * upload to this channel, not deleted, and carried by no other message. The same message id
 * again (a retried send) claims them again harmlessly, so the retry reaches the duplicate-id
 * answer. Any other failure rolls the send back.
 */
export async function attachFiles(
  tx: Tx,
  appId: string,
  cid: string,
  userId: string,
  messageId: string,
  ids: readonly string[],
): Promise<Attachment[]> {
  if (ids.length === 0) return [];
  const claimed = await tx
    .update(schema.files)
    .set({ messageId, attachedAt: sql`coalesce(${schema.files.attachedAt}, now())` })
    .where(
      sql`${schema.files.appId} = ${appId} and ${schema.files.id} in (${sql.join(
        ids.map((id) => sql`${id}::uuid`),
        sql`, `,
      )}) and ${schema.files.cid} = ${cid} and ${schema.files.userId} = ${userId}
        and ${schema.files.deletedAt} is null
        and (${schema.files.messageId} is null or ${schema.files.messageId} = ${messageId})`,
    )
    .returning();
  if (claimed.length !== ids.length)
    throw invalid('attachments: each id must name one of your uploads to this channel that no other message carries', {
      missing: ids.filter((id) => !claimed.some((r) => r.id === id)),
    });
  const byId = new Map<string, FileRow>(claimed.map((r) => [r.id, r]));
  return ids.map((id) => presentAttachment(byId.get(id) as FileRow));
}

/**
 * Everything of app `appId` that counts toward the storage quotas, one row per item
 * (`user_id`, `kind`, `size`): uploads not deleted (attached or not yet) and profile pictures
 * and workspace logos (all renditions, kind `picture`). The one definition of "used": the
 * quota check (`usage`) and the storage report (`storageUse`) both read it.
 */
function held(appId: string): SQL {
  return sql`(select user_id, kind, size from ${schema.files} where app_id = ${appId} and deleted_at is null
              union all
              select user_id, 'picture'::text, bytes from ${schema.images} where app_id = ${appId}) held`;
}

/** Bytes of stored files and pictures (features/images) a user, and their app, hold (what the quotas count). */
export async function usage(tx: Queryable, appId: string, userId: string): Promise<{ user: number; app: number }> {
  const [r] = await rows<{ user: number | null; app: number | null }>(
    tx,
    sql`select coalesce(sum(size) filter (where user_id = ${userId}), 0)::bigint as user,
          coalesce(sum(size), 0)::bigint as app
        from ${held(appId)}`,
  );
  return { user: Number(r?.user ?? 0), app: Number(r?.app ?? 0) };
}

/** What `usage` counts, with the user's share split by kind (`GET /v1/me/storage`), in one query. */
export async function storageUse(
  q: Queryable,
  appId: string,
  userId: string,
): Promise<{ app: number; byKind: Map<string, { count: number; bytes: number }> }> {
  const found = await rows<{ kind: string; count: number | string; bytes: number | string; app: number | string }>(
    q,
    sql`select kind, count(*) filter (where user_id = ${userId}) as count,
          coalesce(sum(size) filter (where user_id = ${userId}), 0)::bigint as bytes,
          coalesce(sum(size), 0)::bigint as app
        from ${held(appId)} group by kind`,
  );
  const byKind = new Map<string, { count: number; bytes: number }>();
  let app = 0;
  for (const r of found) {
    app += Number(r.app);
    byKind.set(r.kind, { count: Number(r.count), bytes: Number(r.bytes) });
  }
  return { app, byKind };
}

/**
 * A deleted message's files: marked deleted (no longer served) and their removal queued, in
 * the delete's own transaction.
 */
export async function dropMessageFiles(svc: Infra, tx: Tx, appId: string, messageId: string): Promise<void> {
  const gone = await tx
    .update(schema.files)
    .set({ deletedAt: sql`now()` })
    .where(
      sql`${schema.files.appId} = ${appId} and ${schema.files.messageId} = ${messageId} and ${schema.files.deletedAt} is null`,
    )
    .returning({ id: schema.files.id });
  for (const f of gone) await svc.jobs.enqueue(tx, EXPIRE_UPLOAD, { appId, fileId: f.id });
}

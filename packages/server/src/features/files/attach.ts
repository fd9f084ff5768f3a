/**
 * The attachments step of the send path (messages/actions.ts `sendOne` calls it inside the
 * send's transaction, after the channel's seq is taken): claim each named upload for the new
 * message, all or none. Kept here, beside the files feature, so the send path itself only
 * gains one call.
 */
import type { Attachment } from '@parley/protocol';
import { sql } from 'drizzle-orm';
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

/** Bytes of stored files and pictures (features/images) a user, and their app, hold (what the quotas count). */
export async function usage(tx: Queryable, appId: string, userId: string): Promise<{ user: number; app: number }> {
  const [r] = await rows<{ user: number | null; app: number | null }>(
    tx,
    sql`select coalesce(sum(size) filter (where user_id = ${userId}), 0)::bigint as user,
          coalesce(sum(size), 0)::bigint as app
        from (select user_id, size from ${schema.files} where app_id = ${appId} and deleted_at is null
              union all
              select user_id, bytes from ${schema.images} where app_id = ${appId}) held`,
  );
  return { user: Number(r?.user ?? 0), app: Number(r?.app ?? 0) };
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

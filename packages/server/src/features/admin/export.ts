/**
 * A user's data export: requested by the user (or an app admin for any user), made by a job
 * into the object store as a `.tar.gz`, announced to the user's connections (`export.ready`),
 * and downloaded through a signed link that expires (no other credentials, so a browser can
 * follow it). The archive holds:
 *
 *   README.txt       what each file is
 *   profile.json     the user as the API shows them, with their channels
 *   messages.json    every message they wrote (replies included, deleted ones as tombstones)
 *   reactions.json   every reaction they gave, with the message and channel
 *   uploads.json     every file they uploaded: name, size, type, checksum, where it was posted
 *
 * Made in a temporary file and streamed to the store, so its size is bounded by the disk, not
 * by memory; read from the database a page at a time.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { DataExport } from '@parley/protocol';
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import tar from 'tar-stream';
import { schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import { presentUser } from '../users/index.js';

type ExportRow = typeof schema.dataExports.$inferSelect;

const PAGE = 1000;

/** In the store beside the uploads (the store's key shape: `app/uuid.ext`). */
export const exportKey = (appId: string, id: string) => `${appId}/${id}.export`;

/** The wire shape, with a fresh signed link while the archive is there. */
export function presentExport(svc: Services, row: ExportRow): DataExport {
  const ready = row.status === 'ready' && row.expiresAt !== null && row.expiresAt.getTime() > svc.clock();
  return {
    id: row.id,
    user_id: row.userId,
    status: row.status as DataExport['status'],
    size: row.size,
    url: ready ? downloadUrl(svc, row) : null,
    created_at: row.createdAt.toISOString(),
    ready_at: row.readyAt?.toISOString() ?? null,
    expires_at: row.expiresAt?.toISOString() ?? null,
  };
}

/** A link valid until the export expires (the signer's own lifetime does not apply). */
function downloadUrl(svc: Services, row: ExportRow): string {
  const exp = Math.floor((row.expiresAt as Date).getTime() / 1000);
  const q = svc.storage.urls.query({ app: row.appId, file: row.id, variant: 'export' }, exp);
  return `/v1/exports/${row.id}/download?${q}`;
}

const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);

async function addEntry(pack: tar.Pack, name: string, body: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ name, size: body.length, mtime: new Date() }, body, (err) => (err ? reject(err) : resolve()));
  });
}

/** Every row of a keyset-paged read, a page at a time. */
async function allPages<T>(page: (after: T | null) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  let last: T | null = null;
  for (;;) {
    const got = await page(last);
    out.push(...got);
    if (got.length < PAGE) return out;
    last = got[got.length - 1] as T;
  }
}

/** Gather the user's data and write the archive; answers its bytes' path in a temp folder. */
async function buildArchive(svc: Services, appId: string, userId: string, dir: string): Promise<string> {
  const { users, members, channels, messages, reactions, files } = schema;
  const [user] = await svc.db
    .select()
    .from(users)
    .where(and(eq(users.appId, appId), eq(users.id, userId)));
  const memberships = await svc.db
    .select({ cid: members.cid, role: members.role, joinedAt: members.joinedAt, name: channels.name })
    .from(members)
    .innerJoin(channels, and(eq(channels.appId, members.appId), eq(channels.cid, members.cid)))
    .where(and(eq(members.appId, appId), eq(members.userId, userId)))
    .orderBy(asc(members.cid));
  const msgs = await allPages((after: typeof messages.$inferSelect | null) =>
    svc.db
      .select()
      .from(messages)
      .where(and(eq(messages.appId, appId), eq(messages.userId, userId), after ? gt(messages.id, after.id) : undefined))
      .orderBy(asc(messages.id))
      .limit(PAGE),
  );
  const reacts = await allPages((after: { messageId: string; type: string } | null) =>
    svc.db
      .select({
        messageId: reactions.messageId,
        type: reactions.type,
        createdAt: reactions.createdAt,
        cid: messages.cid,
      })
      .from(reactions)
      .innerJoin(messages, and(eq(messages.appId, reactions.appId), eq(messages.id, reactions.messageId)))
      .where(
        and(
          eq(reactions.appId, appId),
          eq(reactions.userId, userId),
          after
            ? sql`(${reactions.messageId}, ${reactions.type}) > (${after.messageId}::uuid, ${after.type})`
            : undefined,
        ),
      )
      .orderBy(asc(reactions.messageId), asc(reactions.type))
      .limit(PAGE),
  );
  const uploads = await svc.db
    .select()
    .from(files)
    .where(and(eq(files.appId, appId), eq(files.userId, userId)))
    .orderBy(desc(files.createdAt));

  const file = path.join(dir, 'export.tar.gz');
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), createWriteStream(file));
  const root = `parley-export-${userId}`;
  await addEntry(
    pack,
    `${root}/README.txt`,
    Buffer.from(
      [
        `Your data in this Parley app, as of ${new Date(svc.clock()).toISOString()}.`,
        '',
        'profile.json    your profile and the channels you are in',
        'messages.json   every message you wrote (replies too; deleted ones without their text)',
        'reactions.json  every reaction you gave',
        'uploads.json    every file you uploaded (name, size, type, SHA-256, where it was posted)',
        '',
      ].join('\n'),
    ),
  );
  await addEntry(
    pack,
    `${root}/profile.json`,
    json({
      user: user ? presentUser(user) : null,
      channels: memberships.map((m) => ({
        cid: m.cid,
        name: m.name,
        role: m.role,
        joined_at: m.joinedAt.toISOString(),
      })),
    }),
  );
  await addEntry(
    pack,
    `${root}/messages.json`,
    json(
      msgs.map((m) => ({
        id: m.id,
        cid: m.cid,
        seq: m.seq,
        type: m.type,
        text: m.text,
        parent_id: m.parentId,
        quoted_message_id: m.quotedMessageId,
        attachments: m.attachments.map((a) => ({ id: a.id, name: a.name, mime_type: a.mime_type, size: a.size })),
        created_at: m.createdAt.toISOString(),
        edited_at: m.editedAt?.toISOString() ?? null,
        deleted_at: m.deletedAt?.toISOString() ?? null,
      })),
    ),
  );
  await addEntry(
    pack,
    `${root}/reactions.json`,
    json(
      reacts.map((r) => ({
        message_id: r.messageId,
        cid: r.cid,
        type: r.type,
        created_at: r.createdAt.toISOString(),
      })),
    ),
  );
  await addEntry(
    pack,
    `${root}/uploads.json`,
    json(
      uploads.map((f) => ({
        id: f.id,
        name: f.name,
        size: f.size,
        mime_type: f.mimeType,
        kind: f.kind,
        sha256: f.sha256,
        width: f.width,
        height: f.height,
        duration_ms: f.durationMs,
        cid: f.cid,
        message_id: f.messageId,
        created_at: f.createdAt.toISOString(),
        deleted_at: f.deletedAt?.toISOString() ?? null,
      })),
    ),
  );
  pack.finalize();
  await done;
  return file;
}

/** The export job: build, store, mark ready, tell the user. Idempotent: a ready export is left alone. */
export async function runExport(svc: Services, appId: string, exportId: string, final: boolean): Promise<void> {
  const [row] = await svc.db
    .select()
    .from(schema.dataExports)
    .where(and(eq(schema.dataExports.appId, appId), eq(schema.dataExports.id, exportId)));
  if (row?.status !== 'pending') return;
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-export-'));
  let updated: ExportRow | undefined;
  try {
    const file = await buildArchive(svc, appId, row.userId, dir);
    const size = (await stat(file)).size;
    const key = exportKey(appId, exportId);
    await svc.storage.store.putFile(key, file, { contentType: 'application/gzip', size });
    const now = svc.clock();
    [updated] = await svc.db
      .update(schema.dataExports)
      .set({
        status: 'ready',
        storageKey: key,
        size,
        readyAt: new Date(now),
        expiresAt: new Date(now + svc.config.exportTtlHours * 3600_000),
      })
      .where(and(eq(schema.dataExports.appId, appId), eq(schema.dataExports.id, exportId)))
      .returning();
  } catch (err) {
    if (!final) throw err; // retried by the queue
    [updated] = await svc.db
      .update(schema.dataExports)
      .set({ status: 'failed', error: err instanceof Error ? err.message.slice(0, 500) : 'failed' })
      .where(and(eq(schema.dataExports.appId, appId), eq(schema.dataExports.id, exportId)))
      .returning();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (updated)
    svc.bus.publish([
      {
        to: 'user',
        appId,
        userId: updated.userId,
        event: {
          type: 'export.ready',
          user_id: updated.userId,
          export: presentExport(svc, updated),
          created_at: new Date(svc.clock()).toISOString(),
        },
      },
    ]);
}

/** Remove expired exports: their bytes, then their rows. */
export async function sweepExports(svc: Services): Promise<number> {
  const { dataExports } = schema;
  const old = await svc.db
    .select()
    .from(dataExports)
    .where(lt(dataExports.expiresAt, new Date(svc.clock())));
  for (const e of old) {
    if (e.storageKey) await svc.storage.store.remove(e.storageKey);
    await svc.db.delete(dataExports).where(and(eq(dataExports.appId, e.appId), eq(dataExports.id, e.id)));
  }
  return old.length;
}

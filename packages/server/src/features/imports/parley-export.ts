/**
 * Export a workspace in Parley's own format (parley-format.ts, docs/moving.md): every kind of
 * KINDS, its settings and its files' bytes, into a zip at `file`, which `parley import parley`
 * (parley.ts) loads into another deployment. `parley export` and `POST /v1/admin/exports/parley`.
 *
 * Rows are read a page at a time in key order and written as they come; a kind's file is held in
 * memory while it is written (one zip entry), so the largest kind bounds the memory it takes.
 * On PostgreSQL it reads one snapshot: a read-only, repeatable-read transaction, so rows written
 * while it runs are all out or all in. On PGlite, whose one connection such a transaction would
 * hold from every request for the whole export, it reads as it goes: there, on a workspace in
 * use, a kind read later may name a row newer than one read earlier, which the import refuses.
 */
import { createWriteStream } from 'node:fs';
import { and, asc, eq, getTableColumns, isNotNull, isNull, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { type Database, type Queryable, schema } from '../../platform/db/index.js';
import type { BlobStore } from '../../platform/storage/index.js';
import { ImportInputError } from './errors.js';
import {
  CLAIMS_FILE,
  type Claim,
  emojiEntry,
  encodeRow,
  fileEntry,
  KINDS,
  type KindName,
  type Manifest,
  PARLEY_FORMAT,
  PARLEY_FORMAT_VERSION,
  pictureEntry,
  type Settings,
  thumbEntry,
} from './parley-format.js';
import { ZipWriter } from './zip-write.js';

const PAGE = 2000;

export interface WorkspaceExportOptions {
  /** After each kind (and each hundred files), with the kind being written. */
  onProgress?: (done: number, total: number, kind: string) => void;
  clock?: () => number;
}

/** Write the workspace `appId` to `file`; answers its manifest. */
export async function exportWorkspace(
  database: Database,
  store: BlobStore,
  appId: string,
  file: string,
  opts: WorkspaceExportOptions = {},
): Promise<Manifest> {
  if (database.kind === 'pglite') return writeExport(database.db, store, appId, file, opts);
  return database.db.transaction((tx) => writeExport(tx, store, appId, file, opts), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  });
}

async function writeExport(
  db: Queryable,
  store: BlobStore,
  appId: string,
  file: string,
  opts: WorkspaceExportOptions,
): Promise<Manifest> {
  const [ws] = await db
    .select({ name: schema.apps.name, app: schema.apps, workspace: schema.workspaces })
    .from(schema.workspaces)
    .innerJoin(schema.apps, eq(schema.apps.id, schema.workspaces.appId))
    .where(eq(schema.workspaces.appId, appId));
  if (!ws) throw new ImportInputError(`no workspace with id ${appId}`);

  const out = createWriteStream(file);
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  const zip = new ZipWriter(
    (chunk) => new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve()))),
  );
  const counts: Record<string, number> = {};
  const total = KINDS.length + 1;
  let done = 0;
  try {
    const settings: Settings = {
      join_policy: ws.workspace.joinPolicy as Settings['join_policy'],
      join_domain: ws.workspace.joinDomain,
      require_two_factor: ws.workspace.requireTwoFactor,
      email_visibility: ws.workspace.emailVisibility as Settings['email_visibility'],
      permissions: ws.app.permissions,
      automod: ws.app.automod ?? null,
      upload_rules: ws.app.uploadRules ?? null,
    };
    await zip.add('settings.json', Buffer.from(`${JSON.stringify(settings, null, 2)}\n`));
    const fileRows: (typeof schema.files.$inferSelect)[] = [];
    const emojiRows: (typeof schema.customEmoji.$inferSelect)[] = [];
    const imageRows: (typeof schema.images.$inferSelect)[] = [];
    for (const k of KINDS) {
      opts.onProgress?.(done, total, k.kind);
      const cols = getTableColumns(k.table) as Record<string, PgColumn>;
      const byName = new Map(Object.values(cols).map((c) => [c.name, c]));
      const order = k.key.map((n) => asc(byName.get(n) as PgColumn));
      const appCol = byName.get('app_id') as PgColumn;
      // Files: those attached to a message and not deleted (the others have no place to go);
      // bookmarks: links, and files of those.
      const where =
        k.kind === 'files'
          ? [eq(appCol, appId), isNotNull(schema.files.messageId), isNull(schema.files.deletedAt)]
          : k.kind === 'channel_bookmarks'
            ? [
                eq(appCol, appId),
                sql`(${schema.channelBookmarks.fileId} is null or ${schema.channelBookmarks.fileId} in (select id from ${schema.files}
                  where app_id = ${appId} and message_id is not null and deleted_at is null))`,
              ]
            : [eq(appCol, appId)];
      const lines: string[] = [];
      for (let offset = 0; ; offset += PAGE) {
        const page = (await db
          .select()
          .from(k.table)
          .where(and(...where))
          .orderBy(...order)
          .limit(PAGE)
          .offset(offset)) as Record<string, unknown>[];
        for (const r of page) lines.push(encodeRow(k, r));
        if (k.kind === 'files') fileRows.push(...(page as (typeof schema.files.$inferSelect)[]));
        if (k.kind === 'custom_emoji') emojiRows.push(...(page as (typeof schema.customEmoji.$inferSelect)[]));
        if (k.kind === 'images') imageRows.push(...(page as (typeof schema.images.$inferSelect)[]));
        if (page.length < PAGE) break;
      }
      counts[k.kind satisfies KindName] = lines.length;
      await zip.add(`${k.kind}.jsonl`, Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : ''));
      done++;
    }
    // The addresses people had: their accounts' here, or an earlier import's not claimed yet.
    const claims = new Map<string, Claim>();
    const accounts = await db
      .select({ user_id: schema.workspaceMembers.userId, email: schema.accounts.email })
      .from(schema.workspaceMembers)
      .innerJoin(schema.accounts, eq(schema.accounts.id, schema.workspaceMembers.accountId))
      .where(eq(schema.workspaceMembers.appId, appId));
    const unclaimed = await db
      .select({ user_id: schema.importClaims.userId, email: schema.importClaims.email })
      .from(schema.importClaims)
      .where(and(eq(schema.importClaims.appId, appId), isNull(schema.importClaims.claimedAt)));
    for (const c of [...accounts, ...unclaimed])
      claims.set(c.email.toLowerCase(), { ...c, email: c.email.toLowerCase() });
    const claimLines = [...claims.values()].map((c) => JSON.stringify(c));
    counts.claims = claimLines.length;
    await zip.add(CLAIMS_FILE, Buffer.from(claimLines.length > 0 ? `${claimLines.join('\n')}\n` : ''));
    opts.onProgress?.(done, total, 'file bytes');
    for (const f of fileRows) {
      await zip.add(fileEntry(f.id, f.name), await store.readAll(f.storageKey));
      for (const [size, key] of Object.entries(f.thumbs))
        await zip.add(thumbEntry(f.id, size), await store.readAll(key));
    }
    for (const e of emojiRows) await zip.add(emojiEntry(e.shortcode), await store.readAll(e.storageKey));
    for (const i of imageRows)
      for (const [size, key] of Object.entries(i.sizes))
        await zip.add(pictureEntry(i.id, size), await store.readAll(key));
    const manifest: Manifest = {
      format: PARLEY_FORMAT,
      version: PARLEY_FORMAT_VERSION,
      exported_at: new Date(opts.clock?.() ?? Date.now()).toISOString(),
      workspace: { id: appId, name: ws.name },
      counts,
    };
    // Last, so an archive cut short has no manifest and is refused whole.
    await zip.add('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    await zip.end();
    opts.onProgress?.(total, total, 'done');
    return manifest;
  } finally {
    out.end();
    await closed;
  }
}

/**
 * A user's storage use against the quotas (`GET /v1/me/storage`): read from the same rows the
 * quota check counts (attach.ts `storageUse` beside `usage`), so what it shows is what an
 * upload is refused by; and their files, largest first (`GET /v1/me/files`), to free space.
 */
import { type MyFilesQuery, type MyFilesResponse, STORAGE_KINDS, type StorageUseResponse } from '@parley/protocol';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { storageUse } from './attach.js';
import { presentAttachment } from './present.js';

/** `GET /v1/me/storage`: the caller's bytes, by kind, and the app's, each with its quota (null: none). */
export async function getStorageUse(svc: Services, caller: Caller): Promise<StorageUseResponse> {
  const me = requireUser(caller, 'Storage use belongs to a user: use a user token');
  const { userQuotaBytes: uq, appQuotaBytes: aq } = svc.config;
  const use = await storageUse(svc.db, me.app.id, me.userId);
  const byKind = Object.fromEntries(
    STORAGE_KINDS.map((k) => [k, use.byKind.get(k) ?? { count: 0, bytes: 0 }]),
  ) as StorageUseResponse['storage']['user']['by_kind'];
  let used = 0;
  for (const k of STORAGE_KINDS) used += byKind[k].bytes;
  const files = STORAGE_KINDS.filter((k) => k !== 'picture').reduce((n, k) => n + byKind[k].count, 0);
  return {
    storage: {
      // 0 in the config is "no limit", as in the quota check.
      user: { used_bytes: used, limit_bytes: uq || null, files, by_kind: byKind },
      app: { used_bytes: use.app, limit_bytes: aq || null },
    },
  };
}

/**
 * `GET /v1/me/files`: the caller's files that count toward their quota (not deleted), largest
 * first (ties by id), so the ones that free the most space come first. Keyset paging on
 * (size, id): a file deleted between pages moves nothing else.
 */
export async function listMyFiles(svc: Services, caller: Caller, q: MyFilesQuery): Promise<MyFilesResponse> {
  const me = requireUser(caller, 'Storage use belongs to a user: use a user token');
  const limit = q.limit ?? 50;
  const f = schema.files;
  const conds = [eq(f.appId, me.app.id), eq(f.userId, me.userId), isNull(f.deletedAt)];
  if (q.cursor !== undefined) {
    const m = CURSOR.exec(q.cursor);
    if (!m) throw invalid('cursor is not a cursor of this list');
    conds.push(sql`(${f.size}, ${f.id}) < (${Number(m[1])}, ${m[2]}::uuid)`);
  }
  const found = await svc.db
    .select()
    .from(f)
    .where(and(...conds))
    .orderBy(desc(f.size), desc(f.id))
    .limit(limit + 1);
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return {
    files: page.map((r) => ({ ...presentAttachment(r), message_id: r.messageId })),
    next: found.length > limit && last ? `${last.size}.${last.id}` : null,
  };
}

/** `next` of a page: the last file's size and id. */
const CURSOR = /^(\d{1,16})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

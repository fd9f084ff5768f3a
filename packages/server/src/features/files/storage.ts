/**
 * A user's storage use against the quotas (`GET /v1/me/storage`): read from the same rows the
 * quota check counts (attach.ts `storageUse` beside `usage`), so what it shows is what an
 * upload is refused by.
 */
import { STORAGE_KINDS, type StorageUseResponse } from '@parley/protocol';
import { type Caller, requireUser } from '../../platform/auth.js';
import type { Services } from '../../services.js';
import { storageUse } from './attach.js';

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

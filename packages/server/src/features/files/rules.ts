/**
 * An app's upload rules: which types may be uploaded (read from the bytes, never the name or
 * the client's header) and how large each kind of file may be, below the server's own limit
 * (`PARLEY_UPLOAD_MAX_BYTES`). Read with the app (AppRegistry caches it, every node forgets it
 * at once on a change), so an upload's check costs no query. Any user of the app may read the
 * rules (a client checks a file before sending it); app admins and the server token set them.
 */
import { type AttachmentKind, DEFAULT_UPLOAD_RULES, type UploadRules, uploadRefusal } from '@parley/protocol';
import type { AppContext, Caller } from '../../platform/auth.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import { actorOfCaller, checkAppAdmin, recordAudit } from '../audit/index.js';

const rulesOf = (app: AppContext): UploadRules => app.uploadRules ?? DEFAULT_UPLOAD_RULES;

export function getUploadRules(svc: Services, caller: Caller) {
  return {
    rules: rulesOf(caller.app),
    server_max_bytes: svc.config.uploadMaxBytes,
    direct_uploads: svc.storage.store.kind === 's3',
  };
}

export async function setUploadRules(svc: Services, caller: Caller, rules: UploadRules) {
  await checkAppAdmin(svc, caller);
  const appId = caller.app.id;
  const none = !rules.allowed_types && Object.values(rules.max_bytes).every((v) => v == null);
  await svc.db.transaction(async (tx) => {
    if (!(await svc.apps.setUploadRules(tx, appId, none ? null : rules))) throw notFound('App');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'app.upload_rules_updated',
      target: { kind: 'app', id: appId },
      details: { rules },
    });
  });
  // After commit: every node reads the app again before its next upload.
  svc.apps.changed(appId);
  return { ...getUploadRules(svc, caller), rules: none ? DEFAULT_UPLOAD_RULES : rules };
}

/**
 * Refuse a received file its app's rules do not allow: `415 INVALID_FILE_TYPE` for its type,
 * `413 PAYLOAD_TOO_LARGE` past its kind's limit. `mime` and `kind` are read from the bytes.
 */
export function checkUploadRules(svc: Services, app: AppContext, mime: string, kind: AttachmentKind, size: number) {
  const no = uploadRefusal(rulesOf(app), { mime, kind, size }, svc.config.uploadMaxBytes);
  if (no) throw new ApiError(no.code, no.message, no.details);
}

/**
 * The workspace's logo: owners and admins upload it from inside the workspace, through the chat
 * API (`PUT /v1/workspace/logo`), stored as square renditions; or remove it. Who may, and telling
 * the workspace how it now looks, are accounts' (accounts/branding.ts).
 */
import type { ImageUpload } from '@parley/protocol';
import { eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { withTransaction } from '../../platform/event-log.js';
import { dropImage, removeBytes } from '../../platform/storage/pictures.js';
import type { Received } from '../../platform/storage/received.js';
import type { Services } from '../../services.js';
import { announceWorkspace, checkLogoAccess } from '../accounts/index.js';
import { actorOfCaller, recordAudit } from '../audit/index.js';
import { storeImage } from './actions.js';

/** Make a received upload the workspace's logo (the caller's own app). */
export async function setWorkspaceLogo(
  svc: Services,
  caller: Caller & { kind: 'user' },
  got: Received,
  origin: string,
  declared: { name?: string | undefined; type?: string | undefined },
): Promise<ImageUpload> {
  await checkLogoAccess(svc, caller);
  const appId = caller.app.id;
  const { image } = await storeImage(
    svc,
    caller.app,
    caller.userId,
    { kind: 'workspace', id: '' },
    got,
    origin,
    declared,
    async (tx, _out, url) => {
      await tx.update(schema.workspaces).set({ logo: url }).where(eq(schema.workspaces.appId, appId));
      await recordAudit(tx, {
        appId,
        actor: actorOfCaller(caller),
        action: 'workspace.updated',
        target: { kind: 'workspace', id: appId },
        details: { logo: url },
      });
    },
  );
  await announceWorkspace(svc, appId);
  return image;
}

/** Remove the workspace's logo (owners and admins; the web app shows the name's initial). */
export async function removeWorkspaceLogo(svc: Services, caller: Caller): Promise<void> {
  await checkLogoAccess(svc, caller);
  const appId = caller.app.id;
  const gone = await withTransaction(svc, async (tx) => {
    const row = await dropImage(tx, appId, { kind: 'workspace', id: '' });
    await tx.update(schema.workspaces).set({ logo: null }).where(eq(schema.workspaces.appId, appId));
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'workspace.updated',
      target: { kind: 'workspace', id: appId },
      details: { logo: null },
    });
    return row;
  });
  if (gone) await removeBytes(svc, gone);
  await announceWorkspace(svc, appId);
}

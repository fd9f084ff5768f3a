/**
 * How a workspace looks from outside: its URL slug (`/w/acme`, owners set it with
 * `PATCH /v1/workspaces/{id}`) and its logo (owners and admins upload it from inside the
 * workspace, through the chat API: `PUT /v1/workspace/logo`, stored by features/images,
 * images/logo.ts, with the access check and the announcement here).
 *
 * A slug is unique in the deployment (the unique index decides a race: 409 CONFLICT); reserved
 * words and anything shaped like a workspace id are refused, so `/w/<id>` links always keep
 * meaning the id.
 */
import { RESERVED_SLUGS, SLUG_PATTERN, type WorkspaceUpdatedEvent } from '@parley/protocol';
import { and, eq, isNull } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, notFound } from '../../platform/errors.js';
import type { Services } from '../../services.js';

const SLUG = new RegExp(SLUG_PATTERN);
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A slug as stored (trimmed, lower case), or null to clear it; 400 VALIDATION_ERROR with
 * `details.reason` `invalid` | `reserved` otherwise.
 */
export function checkSlug(raw: string | null): string | null {
  if (raw === null) return null;
  const slug = raw.trim().toLowerCase();
  if (!SLUG.test(slug) || slug.includes('--'))
    throw new ApiError(
      'VALIDATION_ERROR',
      'A workspace address is 3–40 lowercase letters, digits and single dashes, starting and ending with a letter or digit',
      { field: 'slug', reason: 'invalid' },
    );
  if (RESERVED_SLUGS.has(slug) || UUID_SHAPE.test(slug))
    throw new ApiError('VALIDATION_ERROR', 'This address is reserved', { field: 'slug', reason: 'reserved' });
  return slug;
}

/** The calling user's workspace role in its own app: owners and admins only, else FORBIDDEN; NOT_FOUND for an app that is no workspace. */
async function checkWorkspaceManager(svc: Services, caller: Caller): Promise<void> {
  if (caller.kind === 'server') return;
  const appId = caller.app.id;
  const [ws] = await svc.db
    .select({ appId: schema.workspaces.appId })
    .from(schema.workspaces)
    .where(eq(schema.workspaces.appId, appId));
  if (!ws) throw notFound('Workspace');
  const [m] = await svc.db
    .select({ role: schema.workspaceMembers.role })
    .from(schema.workspaceMembers)
    .where(
      and(
        eq(schema.workspaceMembers.appId, appId),
        eq(schema.workspaceMembers.userId, caller.userId),
        isNull(schema.workspaceMembers.deactivatedAt),
      ),
    );
  if (m?.role !== 'owner' && m?.role !== 'admin')
    throw new ApiError('FORBIDDEN', 'Only owners and admins of the workspace can change its logo');
}

/**
 * Tell every connection of the workspace's app how it now looks (`workspace.updated`): after a
 * logo, name or address change commits, so members' sidebars and switchers follow live.
 */
export async function announceWorkspace(svc: Services, appId: string): Promise<void> {
  const [w] = await svc.db
    .select({ name: schema.apps.name, slug: schema.workspaces.slug, logo: schema.workspaces.logo })
    .from(schema.workspaces)
    .innerJoin(schema.apps, eq(schema.apps.id, schema.workspaces.appId))
    .where(eq(schema.workspaces.appId, appId));
  if (!w) return;
  svc.bus.publish([{ to: 'app', appId, event: workspaceEvent(appId, w, svc.clock()) }]);
}

/** The `workspace.updated` event of a workspace as it now looks. */
export function workspaceEvent(
  appId: string,
  w: { name: string; slug: string | null; logo: string | null },
  now: number,
): WorkspaceUpdatedEvent {
  return {
    type: 'workspace.updated',
    workspace_id: appId,
    name: w.name,
    slug: w.slug,
    logo: w.logo,
    created_at: new Date(now).toISOString(),
  };
}

/** Check, before the body is read, that the caller may change its workspace's logo. */
export const checkLogoAccess = checkWorkspaceManager;

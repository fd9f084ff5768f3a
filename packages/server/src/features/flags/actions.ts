/**
 * Feature flags of an app: managed by its backend (server token) or its admins, every change
 * in the audit log in the same transaction, and after commit an app-wide
 * `feature_flags.updated`, which each connection gets with its own user's `value` (live.ts;
 * they differ per user, so the event as published carries none). Evaluation is in evaluate.ts.
 */
import type {
  FeatureFlag,
  FeatureFlagResponse,
  FeatureFlagsResponse,
  FeatureFlagsUpdatedEvent,
  MyFlagsResponse,
  PutFeatureFlagBody,
} from '@parley/protocol';
import { MAX_APP_FLAGS } from '@parley/protocol';
import { and, asc, eq, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { actorOfCaller, checkAppAdmin, recordAudit } from '../audit/index.js';
import { evaluateFlag } from './evaluate.js';
import { liveFlags } from './live.js';

type FlagRow = typeof schema.featureFlags.$inferSelect;

export function presentFlag(r: FlagRow): FeatureFlag {
  return {
    key: r.key,
    description: r.description,
    enabled: r.enabled,
    percentage: r.percentage,
    user_ids: r.userIds,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

const announce = (out: Outbox, appId: string, key: string, change: FeatureFlagsUpdatedEvent['change'], at: Date) => {
  const event: FeatureFlagsUpdatedEvent = { type: 'feature_flags.updated', key, change, created_at: at.toISOString() };
  out.push({ to: 'app', appId, event });
};

/** `GET /v1/feature-flags`: every flag of the caller's app, by key. */
export async function listFlags(svc: Services, caller: Caller): Promise<FeatureFlagsResponse> {
  await checkAppAdmin(svc, caller);
  const f = schema.featureFlags;
  const rows = await svc.db.select().from(f).where(eq(f.appId, caller.app.id)).orderBy(asc(f.key));
  return { flags: rows.map(presentFlag) };
}

/** `PUT /v1/feature-flags/{key}`: create the flag, or change the fields sent. */
export async function putFlag(
  svc: Services,
  caller: Caller,
  key: string,
  body: PutFeatureFlagBody,
): Promise<FeatureFlagResponse & { created: boolean }> {
  await checkAppAdmin(svc, caller);
  const appId = caller.app.id;
  const f = schema.featureFlags;
  // Named once each, in the order given.
  const userIds = body.user_ids === undefined ? undefined : [...new Set(body.user_ids)];
  const at = new Date(svc.clock());
  const result = await withTransaction(svc, async (tx, out) => {
    // One change per app at a time: the count below and two creations of one key hold together.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`parley.feature_flags.${appId}`}))`);
    const [before] = await tx
      .select()
      .from(f)
      .where(and(eq(f.appId, appId), eq(f.key, key)));
    let row: FlagRow | undefined;
    if (!before) {
      const [{ n } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(f).where(eq(f.appId, appId));
      if (n >= MAX_APP_FLAGS) throw invalid(`An app has at most ${MAX_APP_FLAGS} feature flags`);
      [row] = await tx
        .insert(f)
        .values({
          appId,
          key,
          description: (body.description ?? '').trim(),
          enabled: body.enabled ?? false,
          percentage: body.percentage ?? 0,
          userIds: userIds ?? [],
          createdAt: at,
          updatedAt: at,
        })
        .returning();
    } else {
      [row] = await tx
        .update(f)
        .set({
          ...(body.description !== undefined ? { description: body.description.trim() } : {}),
          ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
          ...(body.percentage !== undefined ? { percentage: body.percentage } : {}),
          ...(userIds !== undefined ? { userIds } : {}),
          updatedAt: at,
        })
        .where(and(eq(f.appId, appId), eq(f.key, key)))
        .returning();
    }
    if (!row) throw notFound('Feature flag');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: before ? 'feature_flag.updated' : 'feature_flag.created',
      target: { kind: 'feature_flag', id: key },
      details: {
        changed: Object.keys(body),
        enabled: row.enabled,
        percentage: row.percentage,
        user_ids: row.userIds.length,
        ...(before ? { was: { enabled: before.enabled, percentage: before.percentage } } : {}),
      },
    });
    announce(out, appId, key, 'updated', at);
    return { flag: presentFlag(row), created: !before };
  });
  liveFlags(svc).changed(appId);
  return result;
}

/** `DELETE /v1/feature-flags/{key}`. */
export async function deleteFlag(svc: Services, caller: Caller, key: string): Promise<void> {
  await checkAppAdmin(svc, caller);
  const appId = caller.app.id;
  const f = schema.featureFlags;
  await withTransaction(svc, async (tx, out) => {
    const [gone] = await tx
      .delete(f)
      .where(and(eq(f.appId, appId), eq(f.key, key)))
      .returning();
    if (!gone) throw notFound('Feature flag');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'feature_flag.deleted',
      target: { kind: 'feature_flag', id: key },
      details: { enabled: gone.enabled, percentage: gone.percentage },
    });
    announce(out, appId, key, 'deleted', new Date(svc.clock()));
  });
  liveFlags(svc).changed(appId);
}

/** `GET /v1/me/flags`: every flag of the caller's app, evaluated for the caller. */
export async function myFlags(svc: Services, caller: Caller): Promise<MyFlagsResponse> {
  const me = requireUser(caller, 'Flags are evaluated for a user: use a user token');
  const f = schema.featureFlags;
  const rows = await svc.db.select().from(f).where(eq(f.appId, me.app.id)).orderBy(asc(f.key));
  const flags: Record<string, boolean> = {};
  for (const r of rows) flags[r.key] = evaluateFlag(r, me.userId);
  return { flags };
}

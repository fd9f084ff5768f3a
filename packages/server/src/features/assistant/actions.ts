/**
 * Managing an app's assistant (its backend with the server token, or an app admin): the
 * provider and what it does, every change in the audit log in the same transaction, the key
 * sealed and never answered, and after commit `assistant.updated` to every connection of the
 * app (what it offers now, so clients follow a new `smart_replies_mode` without a reload); and
 * the usage meter. Off by default: an app with no row has no assistant, and one with
 * `enabled: false` sends nothing anywhere.
 */
import type {
  AssistantFeature,
  AssistantResponse,
  AssistantSettings,
  AssistantUpdatedEvent,
  AssistantUsageResponse,
  MyAssistantResponse,
  PutAssistantBody,
} from '@parley/protocol';
import { and, asc, eq, gte } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, invalid, notFound } from '../../platform/errors.js';
import { type Outbox, withTransaction } from '../../platform/event-log.js';
import { allowFor } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { actorOfCaller, checkAppAdmin, recordAudit } from '../audit/index.js';
import { checkOutboundUrl } from '../links/index.js';
import {
  type Assistant,
  loadAssistant,
  type ModerationRegistry,
  type SettingsRow,
  smartRepliesMode,
} from './settings.js';

export function presentAssistant(r: SettingsRow): AssistantSettings {
  return {
    enabled: r.enabled,
    url: r.url,
    model: r.model,
    has_key: r.keySealed !== null,
    timeout_ms: r.timeoutMs,
    catch_up: r.catchUp,
    smart_replies: r.smartReplies,
    smart_replies_mode: smartRepliesMode({ smartReplies: r.smartReplies, smartRepliesAuto: r.smartRepliesAuto }),
    moderation: r.moderation,
    moderation_timeout_ms: r.moderationTimeoutMs,
    moderation_fail_open: r.moderationFailOpen,
    updated_at: r.updatedAt.toISOString(),
  };
}

/** What an assistant (its settings, or none) offers every user of its app. */
function offered(
  a: Pick<SettingsRow, 'enabled' | 'catchUp' | 'smartReplies' | 'smartRepliesAuto'> | null,
): MyAssistantResponse {
  const mode = smartRepliesMode(a);
  return { catch_up: !!a?.enabled && a.catchUp, smart_replies: mode !== 'off', smart_replies_mode: mode };
}

/** Tell every connection of the app what the assistant offers now (published after commit). */
const announce = (out: Outbox, appId: string, a: Parameters<typeof offered>[0], at: Date) => {
  const event: AssistantUpdatedEvent = { type: 'assistant.updated', ...offered(a), created_at: at.toISOString() };
  out.push({ to: 'app', appId, event });
};

/** `GET /v1/assistant`. */
export async function getAssistant(svc: Services, caller: Caller): Promise<AssistantResponse> {
  await checkAppAdmin(svc, caller);
  const t = schema.assistantSettings;
  const [r] = await svc.db.select().from(t).where(eq(t.appId, caller.app.id));
  return { assistant: r ? presentAssistant(r) : null };
}

/** `PUT /v1/assistant`: set the fields sent (`url` and `model` are needed the first time). */
export async function putAssistant(
  svc: Services,
  moderation: ModerationRegistry,
  caller: Caller,
  body: PutAssistantBody,
): Promise<AssistantResponse> {
  await checkAppAdmin(svc, caller);
  const appId = caller.app.id;
  // The outbound policy answers at once (OUTBOUND_NOT_ALLOWED naming the setting to change),
  // rather than at every call; it is checked again at each call.
  if (body.url !== undefined) {
    // The pattern lets through what no URL parser takes (`http://:`): a typed error, not a crash.
    let u: URL | null = null;
    try {
      u = new URL(body.url);
    } catch {
      // answered below
    }
    if (!u?.hostname) throw invalid('`url` is not an http(s) URL with a host', { field: 'url' });
    await checkOutboundUrl(body.url, allowFor(svc.config, 'assistant'), 'assistant');
  }
  const smart = smartRepliesChange(body);
  const t = schema.assistantSettings;
  const at = new Date(svc.clock());
  const result = await withTransaction(svc, async (tx, out) => {
    const [before] = await tx.select().from(t).where(eq(t.appId, appId)).for('update');
    const url = body.url ?? before?.url;
    const model = body.model?.trim() ?? before?.model;
    if (!url || !model) throw invalid('An assistant needs a provider `url` and a `model` the first time it is set');
    const values = {
      url,
      model,
      ...(body.key !== undefined ? { keySealed: body.key === null ? null : svc.sealer.seal(body.key) } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      ...(body.timeout_ms !== undefined ? { timeoutMs: body.timeout_ms } : {}),
      ...(body.catch_up !== undefined ? { catchUp: body.catch_up } : {}),
      ...smart,
      ...(body.moderation !== undefined ? { moderation: body.moderation } : {}),
      ...(body.moderation_timeout_ms !== undefined ? { moderationTimeoutMs: body.moderation_timeout_ms } : {}),
      ...(body.moderation_fail_open !== undefined ? { moderationFailOpen: body.moderation_fail_open } : {}),
      updatedAt: at,
    };
    const [row] = before
      ? await tx.update(t).set(values).where(eq(t.appId, appId)).returning()
      : await tx
          .insert(t)
          .values({ appId, ...values })
          .returning();
    if (!row) throw notFound('Assistant');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'assistant.updated',
      target: { kind: 'assistant', id: appId },
      // The key is said to have changed, never what it is.
      details: {
        changed: Object.keys(body),
        enabled: row.enabled,
        url: row.url,
        model: row.model,
        features: {
          catch_up: row.catchUp,
          smart_replies: row.smartReplies,
          smart_replies_mode: presentAssistant(row).smart_replies_mode,
          moderation: row.moderation,
        },
      },
    });
    announce(out, appId, row, at);
    return { assistant: presentAssistant(row) };
  });
  await moderation.changed(appId);
  return result;
}

/**
 * The columns a PUT's `smart_replies` and `smart_replies_mode` set: `on_request` and `automatic`
 * turn them on (clicked or by themselves), `off` or `false` turns them off, `true` alone turns
 * them on keeping whether they were automatic. Both sent must agree.
 */
function smartRepliesChange(body: PutAssistantBody): { smartReplies?: boolean; smartRepliesAuto?: boolean } {
  const mode = body.smart_replies_mode;
  if (mode === undefined) return body.smart_replies !== undefined ? { smartReplies: body.smart_replies } : {};
  if (body.smart_replies !== undefined && body.smart_replies !== (mode !== 'off'))
    throw invalid('`smart_replies` and `smart_replies_mode` disagree: send one of them', {
      field: 'smart_replies_mode',
    });
  if (mode === 'off') return { smartReplies: false };
  return { smartReplies: true, smartRepliesAuto: mode === 'automatic' };
}

/** `DELETE /v1/assistant`: the provider and its key are forgotten (the usage meter stays). */
export async function deleteAssistant(svc: Services, moderation: ModerationRegistry, caller: Caller): Promise<void> {
  await checkAppAdmin(svc, caller);
  const appId = caller.app.id;
  const t = schema.assistantSettings;
  await withTransaction(svc, async (tx, out) => {
    const [gone] = await tx.delete(t).where(eq(t.appId, appId)).returning();
    if (!gone) throw notFound('Assistant');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'assistant.deleted',
      target: { kind: 'assistant', id: appId },
      details: { url: gone.url, model: gone.model },
    });
    announce(out, appId, null, new Date(svc.clock()));
  });
  await moderation.changed(appId);
}

/** `GET /v1/assistant/usage`: requests and tokens per UTC day and feature, oldest first. */
export async function assistantUsage(svc: Services, caller: Caller, days = 30): Promise<AssistantUsageResponse> {
  await checkAppAdmin(svc, caller);
  const t = schema.assistantUsage;
  const from = new Date(svc.clock() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const rows = await svc.db
    .select()
    .from(t)
    .where(and(eq(t.appId, caller.app.id), gte(t.day, from)))
    .orderBy(asc(t.day), asc(t.feature));
  const total = { requests: 0, prompt_tokens: 0, completion_tokens: 0 };
  const usage = rows.map((r) => {
    total.requests += r.requests;
    total.prompt_tokens += r.promptTokens;
    total.completion_tokens += r.completionTokens;
    return {
      day: r.day,
      feature: r.feature as AssistantFeature,
      requests: r.requests,
      prompt_tokens: r.promptTokens,
      completion_tokens: r.completionTokens,
    };
  });
  return { usage, total };
}

/** `GET /v1/me/assistant`: what the assistant offers the caller. */
export async function myAssistant(svc: Services, caller: Caller): Promise<MyAssistantResponse> {
  const me = requireUser(caller, 'The assistant works for a user: use a user token');
  return offered(await loadAssistant(svc.db, svc.sealer, me.app.id));
}

/** The app's assistant when `feature` is on, or ASSISTANT_OFF. */
export async function requireAssistant(
  svc: Services,
  appId: string,
  feature: 'catch_up' | 'smart_replies',
): Promise<Assistant> {
  const a = await loadAssistant(svc.db, svc.sealer, appId);
  const on = !!a?.enabled && (feature === 'catch_up' ? a.catchUp : a.smartReplies);
  if (!a || !on) {
    const what = feature === 'catch_up' ? 'catch up' : 'suggest replies';
    const why = !a ? 'the app has none' : !a.enabled ? 'it is off' : 'this feature of it is off';
    throw new ApiError('ASSISTANT_OFF', `The app's assistant does not ${what} here: ${why}`, { feature });
  }
  return a;
}

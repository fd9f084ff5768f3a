/**
 * The slash command registry of an app: the built-ins (code) and the commands the app
 * registered (`slash_commands`), managed by the app's backend (server token) or a workspace
 * owner or admin, as webhooks are. Every change is in the audit log, in its own transaction.
 */
import {
  BUILTIN_COMMANDS,
  type BuiltinCommand,
  type CreateCommandBody,
  type CreatedCommandResponse,
  type GifProviderBody,
  type GifProviderResponse,
  MAX_APP_COMMANDS,
  type SlashCommand,
  type UpdateCommandBody,
  uuidv7,
} from '@parley/protocol';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, invalid, notFound } from '../../platform/errors.js';
import { allowFor } from '../../platform/outbound.js';
import { newCredential } from '../../platform/secrets.js';
import type { Services } from '../../services.js';
import { actorOfCaller, recordAudit } from '../audit/index.js';
import { checkOutboundUrl } from '../links/index.js';
import { checkAppAdmin } from '../permissions/index.js';

export type CommandRow = typeof schema.slashCommands.$inferSelect;

/** What the built-ins say of themselves (the autocomplete's lines). */
export const BUILTINS: Record<BuiltinCommand, { description: string; usage: string }> = {
  remind: { description: 'Remind me: /remind 20m stretch, /remind tomorrow call the bank', usage: 'when what' },
  schedule: { description: 'Send later: /schedule 1h See you at the standup', usage: 'when message' },
  poll: { description: 'Start a poll: /poll Lunch? | Pizza | Sushi', usage: '[question | option | option]' },
  giphy: { description: 'Post a GIF: /giphy cats', usage: 'search words' },
  me: { description: 'Say what you are doing, e.g. /me waves', usage: 'action' },
  shrug: { description: 'Append ¯\\_(ツ)_/¯ to your message', usage: '[message]' },
};

export const isBuiltin = (name: string): name is BuiltinCommand =>
  (BUILTIN_COMMANDS as readonly string[]).includes(name);

export function presentBuiltin(name: BuiltinCommand): SlashCommand {
  const b = BUILTINS[name];
  return {
    id: null,
    name,
    description: b.description,
    usage: b.usage,
    url: null,
    roles: null,
    builtin: true,
    created_at: null,
  };
}

export function presentCommand(r: CommandRow): SlashCommand {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    usage: r.usage,
    url: r.url,
    roles: r.roles ?? null,
    builtin: false,
    created_at: r.createdAt.toISOString(),
  };
}

/** The app whose registry the caller may manage: a server token, or a workspace owner/admin. */
export const checkCommandAdmin = (svc: Services, caller: Caller): Promise<string> =>
  checkAppAdmin(
    svc.db,
    caller,
    'Only the app backend (server token) or a workspace owner or admin manages slash commands',
  );

/** An http(s) URL without credentials that the `commands` outbound policy lets through (else OUTBOUND_NOT_ALLOWED). */
async function checkUrl(svc: Services, raw: string): Promise<void> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('url is not a URL', { field: 'url' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('url must be http or https', { field: 'url' });
  if (u.username || u.password) throw invalid('url must not carry credentials', { field: 'url' });
  await checkOutboundUrl(raw, allowFor(svc.config, 'commands'), 'commands');
}

export async function listAppCommands(svc: Services, appId: string): Promise<CommandRow[]> {
  const c = schema.slashCommands;
  return svc.db.select().from(c).where(eq(c.appId, appId)).orderBy(asc(c.name));
}

export async function commandByName(svc: Services, appId: string, name: string): Promise<CommandRow | null> {
  const c = schema.slashCommands;
  const [row] = await svc.db
    .select()
    .from(c)
    .where(and(eq(c.appId, appId), eq(c.name, name)));
  return row ?? null;
}

export async function accessCommand(svc: Services, appId: string, id: string): Promise<CommandRow> {
  const c = schema.slashCommands;
  const [row] = await svc.db
    .select()
    .from(c)
    .where(and(eq(c.appId, appId), eq(c.id, id)));
  if (!row) throw notFound('Command');
  return row;
}

export async function createCommand(
  svc: Services,
  caller: Caller,
  body: CreateCommandBody,
): Promise<CreatedCommandResponse> {
  const appId = await checkCommandAdmin(svc, caller);
  if (isBuiltin(body.name)) throw invalid(`/${body.name} is a built-in command`, { field: 'name' });
  await checkUrl(svc, body.url);
  const secret = newCredential('cmdsec_');
  const c = schema.slashCommands;
  const row = await svc.db.transaction(async (tx) => {
    // One registration at a time per app, so the count and the name's uniqueness hold together.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`parley.commands.${appId}`}))`);
    const [{ n } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(c).where(eq(c.appId, appId));
    if (n >= MAX_APP_COMMANDS) throw invalid(`An app has at most ${MAX_APP_COMMANDS} commands`);
    const [inserted] = await tx
      .insert(c)
      .values({
        appId,
        id: uuidv7(),
        name: body.name,
        description: body.description.trim(),
        usage: (body.usage ?? '').trim(),
        url: body.url,
        roles: body.roles ?? null,
        secretSealed: svc.sealer.seal(secret),
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) throw new ApiError('CONFLICT', `The app already has a /${body.name} command`, { name: body.name });
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'command.created',
      target: { kind: 'command', id: inserted.id },
      details: { name: body.name, url: body.url },
    });
    return inserted;
  });
  return { command: presentCommand(row), secret };
}

export async function updateCommand(
  svc: Services,
  caller: Caller,
  id: string,
  body: UpdateCommandBody,
): Promise<SlashCommand> {
  const appId = await checkCommandAdmin(svc, caller);
  if (body.url !== undefined) await checkUrl(svc, body.url);
  const c = schema.slashCommands;
  const row = await svc.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(c)
      .set({
        ...(body.description !== undefined ? { description: body.description.trim() } : {}),
        ...(body.usage !== undefined ? { usage: body.usage.trim() } : {}),
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.roles !== undefined ? { roles: body.roles } : {}),
        updatedAt: new Date(svc.clock()),
      })
      .where(and(eq(c.appId, appId), eq(c.id, id)))
      .returning();
    if (!updated) throw notFound('Command');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'command.updated',
      target: { kind: 'command', id },
      details: { name: updated.name, changed: Object.keys(body) },
    });
    return updated;
  });
  return presentCommand(row);
}

export async function deleteCommand(svc: Services, caller: Caller, id: string): Promise<void> {
  const appId = await checkCommandAdmin(svc, caller);
  const c = schema.slashCommands;
  await svc.db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(c)
      .where(and(eq(c.appId, appId), eq(c.id, id)))
      .returning({ name: c.name });
    if (!gone) throw notFound('Command');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'command.deleted',
      target: { kind: 'command', id },
      details: { name: gone.name },
    });
  });
}

// ---- the GIF provider ------------------------------------------------------------------

export const DEFAULT_GIF_BASE = { giphy: 'https://api.giphy.com', tenor: 'https://tenor.googleapis.com' } as const;

export interface GifProvider {
  provider: 'giphy' | 'tenor';
  apiKey: string;
  baseUrl: string;
  rating: string | null;
}

export async function gifProviderOf(svc: Services, appId: string): Promise<GifProvider | null> {
  const g = schema.gifProviders;
  const [row] = await svc.db.select().from(g).where(eq(g.appId, appId));
  if (!row) return null;
  return {
    provider: row.provider as GifProvider['provider'],
    apiKey: svc.sealer.open(row.keySealed),
    baseUrl: row.baseUrl,
    rating: row.rating,
  };
}

function presentGifProvider(row: typeof schema.gifProviders.$inferSelect | undefined): GifProviderResponse {
  if (!row) return { gif_provider: null };
  return {
    gif_provider: {
      provider: row.provider as 'giphy' | 'tenor',
      base_url: row.baseUrl,
      rating: row.rating,
      updated_at: row.updatedAt.toISOString(),
    },
  };
}

export async function getGifProvider(svc: Services, caller: Caller): Promise<GifProviderResponse> {
  const appId = await checkCommandAdmin(svc, caller);
  const g = schema.gifProviders;
  const [row] = await svc.db.select().from(g).where(eq(g.appId, appId));
  return presentGifProvider(row);
}

export async function setGifProvider(
  svc: Services,
  caller: Caller,
  body: GifProviderBody,
): Promise<GifProviderResponse> {
  const appId = await checkCommandAdmin(svc, caller);
  const baseUrl = (body.base_url ?? DEFAULT_GIF_BASE[body.provider]).replace(/\/+$/, '');
  await checkUrl(svc, baseUrl);
  const g = schema.gifProviders;
  const values = {
    provider: body.provider,
    keySealed: svc.sealer.seal(body.api_key),
    baseUrl,
    rating: body.rating ?? null,
    updatedAt: new Date(svc.clock()),
  };
  const row = await svc.db.transaction(async (tx) => {
    const [r] = await tx
      .insert(g)
      .values({ appId, ...values })
      .onConflictDoUpdate({ target: g.appId, set: values })
      .returning();
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'command.gif_provider_updated',
      target: { kind: 'gif_provider', id: body.provider },
      details: { provider: body.provider, base_url: baseUrl },
    });
    return r;
  });
  return presentGifProvider(row);
}

export async function removeGifProvider(svc: Services, caller: Caller): Promise<void> {
  const appId = await checkCommandAdmin(svc, caller);
  const g = schema.gifProviders;
  await svc.db.transaction(async (tx) => {
    const gone = await tx.delete(g).where(eq(g.appId, appId)).returning({ provider: g.provider });
    if (gone.length === 0) throw notFound('GIF provider');
    await recordAudit(tx, {
      appId,
      actor: actorOfCaller(caller),
      action: 'command.gif_provider_updated',
      target: { kind: 'gif_provider', id: gone[0]?.provider ?? '' },
      details: { removed: true },
    });
  });
}

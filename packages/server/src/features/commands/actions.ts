/**
 * Running a slash command (docs/protocol/hooks-and-commands.md, "Slash commands"): parse `/name args`, find the
 * command (a built-in, else the app's), check the caller may run it in the channel, run it.
 *
 * An app's command is POSTed to its URL, signed as webhooks are (`X-Parley-Signature`), with
 * the command, its arguments, the user, the channel and a `response_url` that takes answers
 * later (until COMMAND_RESPONSE_TTL_SECONDS). The app answers within `commandTimeoutMs` with a
 * `CommandAnswer` (or an empty 200): `in_channel` posts a message (as the user, or as the app's
 * bot), `ephemeral` shows it to the sender only. An app that times out, answers non-2xx or
 * nonsense gets the sender a clear ephemeral error; nothing is posted. Button clicks on an
 * app's ephemeral message go to the same URL, signed, as `type: "action"`.
 */
import {
  BUILTIN_COMMANDS,
  COMMAND_RESPONSE_TTL_SECONDS,
  CommandAnswer,
  type EphemeralActionBody,
  type EphemeralMessage,
  isNameText,
  type Message,
  type RunCommandBody,
  type RunCommandResponse,
  type SlashCommand,
} from '@parley/protocol';
import { Value } from '@sinclair/typebox/value';
import { and, eq } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, invalid, notFound } from '../../platform/errors.js';
import { checkRate } from '../../platform/limits.js';
import { allowFor } from '../../platform/outbound.js';
import type { Services } from '../../services.js';
import { publicUrl } from '../accounts/index.js';
import { type ChannelAccess, checkPost, loadChannel } from '../channels/index.js';
import { FetchRefused, safeFetch } from '../links/index.js';
import { sendMessage, sendSystemMessage } from '../messages/index.js';
import { can } from '../permissions/index.js';
import { signatureHeader } from '../webhooks/index.js';
import { runBuiltin } from './builtins.js';
import {
  accessEphemeral,
  type EphemeralRow,
  type EphemeralTarget,
  presentEphemeral,
  removeEphemeral,
  showEphemeral,
} from './ephemeral.js';
import { actOnGif } from './gif.js';
import {
  type CommandRow,
  commandByName,
  isBuiltin,
  listAppCommands,
  presentBuiltin,
  presentCommand,
} from './registry.js';

type Me = Caller & { kind: 'user' };

/** `/name args` → its parts; VALIDATION_ERROR for text that is not a command. */
export function parseCommand(text: string): { name: string; args: string } {
  const m = /^\/([^\s/]+)(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!m) throw invalid('A command is /name followed by its arguments');
  return { name: (m[1] as string).toLowerCase(), args: (m[2] ?? '').trim() };
}

/** Whether the caller's roles (app role, channel role) let them run `roles`-restricted commands. */
function mayRun(a: ChannelAccess, roles: readonly string[] | null): boolean {
  if (!roles || roles.length === 0) return true;
  const mine = [a.user?.role, a.member?.role].filter((r): r is string => !!r);
  return mine.some((r) => roles.includes(r));
}

async function channelFor(svc: Services, me: Me, cid: string): Promise<ChannelAccess> {
  const a = await loadChannel(svc.db, me, cid);
  if (!a || a.rank < 0) throw notFound('Channel');
  return a;
}

/** The commands the caller may run in `cid`: built-ins and the app's, by name. */
export async function commandsFor(svc: Services, caller: Caller, cid: string): Promise<SlashCommand[]> {
  const me = requireUser(caller, 'Commands are run by a user: use a user token');
  const a = await channelFor(svc, me, cid);
  if (!can(a, 'send-message', svc.clock())) return [];
  const out: SlashCommand[] = [];
  for (const name of BUILTIN_COMMANDS) {
    if (name === 'poll' && !can(a, 'create-poll', svc.clock())) continue;
    if (name === 'giphy' && !can(a, 'upload-file', svc.clock())) continue;
    out.push(presentBuiltin(name));
  }
  for (const r of await listAppCommands(svc, me.app.id)) if (mayRun(a, r.roles ?? null)) out.push(presentCommand(r));
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

/** Run `body.text` in `cid` (see the module comment). */
export async function runCommand(
  svc: Services,
  caller: Caller,
  cid: string,
  body: RunCommandBody,
  /** Where this server is reached (the REST request's origin); default PARLEY_PUBLIC_URL. */
  origin?: string,
): Promise<RunCommandResponse> {
  const me = requireUser(caller, 'Commands are run by a user: use a user token');
  const { name, args } = parseCommand(body.text);
  const a = await channelFor(svc, me, cid);
  const appCommand = isBuiltin(name) ? null : await commandByName(svc, me.app.id, name);
  if (!isBuiltin(name) && !appCommand)
    throw new ApiError(
      'UNKNOWN_COMMAND',
      `No command /${name} here. To post text that starts with a slash, begin it with //.`,
      { name },
    );
  checkPost(a, svc.clock());
  if (appCommand && !mayRun(a, appCommand.roles ?? null))
    throw new ApiError('FORBIDDEN', `Your role may not run /${name}`, { name });
  await checkRate(svc, 'commands', me.app.id, me.userId);
  if (body.parent_id) {
    const [p] = await svc.db
      .select({ cid: schema.messages.cid, parentId: schema.messages.parentId })
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, me.app.id), eq(schema.messages.id, body.parent_id)));
    if (!p || p.cid !== cid || p.parentId) throw invalid('parent_id names no thread parent in this channel');
  }
  const t: EphemeralTarget = {
    appId: me.app.id,
    userId: me.userId,
    cid,
    parentId: body.parent_id ?? null,
    command: name,
    commandId: appCommand?.id ?? null,
  };
  if (!appCommand) return runBuiltin(svc, me, a, t, name as (typeof BUILTIN_COMMANDS)[number], args, body);
  const payload = {
    type: 'command',
    app_id: me.app.id,
    command: `/${name}`,
    text: args,
    user_id: me.userId,
    user_name: a.user?.name ?? me.userId,
    cid,
    parent_id: body.parent_id ?? null,
    response_url: responseUrl(svc, responseToken(svc, appCommand, t), origin),
    created_at: new Date(svc.clock()).toISOString(),
  };
  const answer = await callApp(svc, appCommand, payload);
  return applyAnswer(svc, me, t, answer, null);
}

// ---- the app's side --------------------------------------------------------------------

type Answered = { ok: true; answer: CommandAnswer } | { ok: false; why: string };

/** POST `payload` to the command's URL, signed; never throws. */
async function callApp(svc: Services, cmd: CommandRow, payload: Record<string, unknown>): Promise<Answered> {
  const body = JSON.stringify(payload);
  const secret = svc.sealer.open(cmd.secretSealed);
  try {
    const res = await safeFetch(cmd.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-parley-signature': signatureHeader(secret, Math.floor(svc.clock() / 1000), body),
        'x-parley-event': `command.${String(payload.type)}`,
      },
      accept: 'application/json',
      userAgent: 'Parley-Commands/1.0',
      allow: allowFor(svc.config, 'commands'),
      timeoutMs: svc.config.commandTimeoutMs,
      maxRedirects: 0,
      maxBytes: 256 * 1024,
    });
    if (res.status < 200 || res.status >= 300) return { ok: false, why: `it answered HTTP ${res.status}` };
    const text = res.body.toString('utf8').trim();
    if (!text) return { ok: true, answer: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, why: 'it answered something that is not JSON' };
    }
    if (!Value.Check(CommandAnswer, parsed)) return { ok: false, why: 'its answer is not a command answer' };
    return { ok: true, answer: parsed };
  } catch (err) {
    if (err instanceof FetchRefused)
      return { ok: false, why: err.reason === 'timeout' ? 'it did not answer in time' : `${err.reason}` };
    const msg = String((err as Error).message ?? err);
    return { ok: false, why: /abort|timeout/i.test(msg) ? 'it did not answer in time' : msg };
  }
}

/** Carry out an app's answer (to a command, a click, or on its response URL). */
async function applyAnswer(
  svc: Services,
  me: Me,
  t: EphemeralTarget,
  answered: Answered,
  clicked: EphemeralRow | null,
): Promise<RunCommandResponse & { ephemeral_removed?: boolean }> {
  if (!answered.ok) {
    svc.log.warn({ app: t.appId, command: t.command, why: answered.why }, 'slash command failed');
    const e = await showEphemeral(svc, t, {
      text: `/${t.command} failed: ${answered.why}. Nothing was posted.`,
      error: true,
    });
    return { result: 'ephemeral', ephemeral: e };
  }
  const a = answered.answer;
  if (clicked && a.delete_original) await removeEphemeral(svc, clicked);
  const hasContent = !!(a.text?.trim() || a.images?.length || a.actions?.length);
  if (!hasContent) return { result: 'none' };
  if (a.response_type === 'in_channel') {
    const text = (a.text ?? '').trim() || (a.images ?? []).map((i) => i.url).join('\n');
    if (!text || !isNameText(text)) return { result: 'none' };
    let message: Message;
    if (a.as_user) {
      message = await sendMessage(svc, me, t.cid, { text, ...(t.parentId ? { parent_id: t.parentId } : {}) });
    } else {
      // As the app: a system note by the app's bot (the channel's own voice, no unread, no push).
      message = await sendSystemMessage(svc, { kind: 'server', app: me.app, userId: null }, t.cid, { text });
    }
    if (clicked && a.replace_original !== false && !a.delete_original) await removeEphemeral(svc, clicked);
    return { result: 'message', message };
  }
  const replace = clicked && a.replace_original !== false && !a.delete_original ? clicked.id : undefined;
  const e = await showEphemeral(
    svc,
    t,
    { text: a.text ?? '', images: a.images ?? [], actions: a.actions ?? [] },
    {},
    replace,
  );
  return { result: 'ephemeral', ephemeral: e };
}

// ---- clicks --------------------------------------------------------------------------

/** A click on a button of one's own ephemeral message. */
export async function actOnEphemeral(
  svc: Services,
  caller: Caller,
  id: string,
  body: EphemeralActionBody,
  origin?: string,
): Promise<{ ephemeral: EphemeralMessage | null; message?: Message }> {
  const me = requireUser(caller, 'Buttons are clicked by a user: use a user token');
  const row = await accessEphemeral(svc, me.app.id, me.userId, id);
  const actions = ((row.body as { actions?: { name: string; value?: string }[] }).actions ?? []).map((x) => x.name);
  if (!actions.includes(body.name)) throw invalid(`No button "${body.name}" on this message`, { name: body.name });
  await checkRate(svc, 'commands', me.app.id, me.userId);
  if (row.command === 'giphy' && !row.commandId) return actOnGif(svc, me, row, body.name);
  const c = schema.slashCommands;
  const [cmd] = row.commandId
    ? await svc.db
        .select()
        .from(c)
        .where(and(eq(c.appId, me.app.id), eq(c.id, row.commandId)))
    : [];
  if (!cmd) {
    await removeEphemeral(svc, row);
    return { ephemeral: null };
  }
  const t: EphemeralTarget = {
    appId: row.appId,
    userId: row.userId,
    cid: row.cid,
    parentId: row.parentId,
    command: row.command,
    commandId: cmd.id,
  };
  const button = ((row.body as { actions?: { name: string; value?: string }[] }).actions ?? []).find(
    (x) => x.name === body.name,
  );
  const payload = {
    type: 'action',
    app_id: me.app.id,
    command: `/${cmd.name}`,
    action: { name: body.name, value: body.value ?? button?.value ?? null },
    ephemeral_id: row.id,
    user_id: me.userId,
    cid: row.cid,
    parent_id: row.parentId,
    response_url: responseUrl(svc, responseToken(svc, cmd, t), origin),
    created_at: new Date(svc.clock()).toISOString(),
  };
  const answer = await callApp(svc, cmd, payload);
  if (!answer.ok) {
    const r = await applyAnswer(svc, me, t, answer, row);
    return { ephemeral: r.ephemeral ?? null };
  }
  const r = await applyAnswer(svc, me, t, answer, row);
  if (r.result === 'message') return { ephemeral: null, ...(r.message ? { message: r.message } : {}) };
  if (r.result === 'ephemeral') return { ephemeral: r.ephemeral ?? null };
  // Nothing to show: the clicked message stays unless the app removed it.
  return { ephemeral: answer.answer.delete_original ? null : await accessEphemeralOrNull(svc, row) };
}

async function accessEphemeralOrNull(svc: Services, row: EphemeralRow): Promise<EphemeralMessage | null> {
  try {
    return presentEphemeral(await accessEphemeral(svc, row.appId, row.userId, row.id));
  } catch {
    return null;
  }
}

/** Dismiss one's own ephemeral message. */
export async function dismissEphemeral(svc: Services, caller: Caller, id: string): Promise<void> {
  const me = requireUser(caller, 'Use a user token');
  await removeEphemeral(svc, await accessEphemeral(svc, me.app.id, me.userId, id));
}

// ---- response URLs -----------------------------------------------------------------------

interface ResponseClaims {
  a: string;
  c: string;
  u: string;
  cid: string;
  p: string | null;
  e: number;
}

function responseToken(svc: Services, cmd: CommandRow, t: EphemeralTarget): string {
  const claims: ResponseClaims = {
    a: t.appId,
    c: cmd.id,
    u: t.userId,
    cid: t.cid,
    p: t.parentId,
    e: Math.floor(svc.clock() / 1000) + COMMAND_RESPONSE_TTL_SECONDS,
  };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${svc.sealer.mac('command-response', body).toString('base64url')}`;
}

function responseUrl(svc: Services, token: string, origin?: string): string {
  return `${svc.config.publicUrl ?? origin ?? publicUrl(svc.config)}/v1/commands/responses?token=${token}`;
}

/**
 * An answer the app POSTs later to its `response_url` (the token is the credential: it names
 * the app, command, user and channel, and expires). Carried out as an answer in time would be.
 */
export async function respondLater(svc: Services, token: string, body: unknown): Promise<RunCommandResponse> {
  const [claimsText, mac] = token.split('.');
  if (!claimsText || !mac) throw new ApiError('UNAUTHORIZED', 'Not a response token');
  const want = svc.sealer.mac('command-response', claimsText).toString('base64url');
  if (want !== mac) throw new ApiError('UNAUTHORIZED', 'Not a response token');
  const claims = JSON.parse(Buffer.from(claimsText, 'base64url').toString('utf8')) as ResponseClaims;
  if (claims.e < svc.clock() / 1000) throw new ApiError('UNAUTHORIZED', 'This response URL has expired');
  if (!Value.Check(CommandAnswer, body)) throw invalid('The body is not a command answer (docs/protocol.md)');
  const c = schema.slashCommands;
  const [cmd] = await svc.db
    .select()
    .from(c)
    .where(and(eq(c.appId, claims.a), eq(c.id, claims.c)));
  if (!cmd) throw notFound('Command');
  const [appRow] = await svc.db
    .select({ apiKey: schema.apps.apiKey })
    .from(schema.apps)
    .where(eq(schema.apps.id, claims.a));
  const app = appRow ? await svc.apps.byKey(appRow.apiKey) : null;
  if (!app) throw notFound('App');
  const me: Me = { kind: 'user', app, userId: claims.u };
  const t: EphemeralTarget = {
    appId: claims.a,
    userId: claims.u,
    cid: claims.cid,
    parentId: claims.p,
    command: cmd.name,
    commandId: cmd.id,
  };
  return applyAnswer(svc, me, t, { ok: true, answer: body }, null);
}

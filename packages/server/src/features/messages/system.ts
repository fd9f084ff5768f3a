/**
 * System notes: messages of type `system`, the channel's own voice ("Ada started a meeting",
 * "Call ended · 12 min"). Features write theirs inside their own transactions
 * (`systemMessage` in channels/actions.ts); this is the one an app's *server* posts through the
 * API (`POST /v1/channels/{cid}/system-messages`). A user token never gets here (the route is
 * server-only, and a user's send takes no `type`): a note reads as the channel's own word, so
 * only the app may speak it. System notes count toward no one's unread and push to no one.
 */
import { type Message, type SystemMessageBody, uuidv7 } from '@parley/protocol';
import { and, eq, isNull } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { ApiError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { logEvents, takeSeqs, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { loadChannel } from '../channels/index.js';
import { messageRow } from './access.js';
import { presentMessage } from './present.js';

/** The user id of each app's bot, which sends reminders as DMs and speaks system notes. */
export const BOT_USER_ID = 'parley-bot';

const BOT_NAME = 'Parley';

/** The answer to a repeated id: the same note, or CONFLICT when the id names another message. */
async function storedNote(svc: Services, appId: string, cid: string, id: string): Promise<Message> {
  const row = await messageRow(svc.db, appId, id);
  if (!row || row.cid !== cid || row.type !== 'system')
    throw new ApiError('CONFLICT', 'This message id is already used by another message');
  return presentMessage(row);
}

/** Post a system note to any channel of the app (server token only). */
export async function sendSystemMessage(
  svc: Services,
  caller: Caller,
  cid: string,
  body: SystemMessageBody,
): Promise<Message> {
  if (caller.kind !== 'server') throw forbidden('Only the app’s server may post system messages');
  const appId = caller.app.id;
  if (!body.text.trim()) throw invalid('A system message cannot be blank');
  const a = await loadChannel(svc.db, caller, cid);
  if (!a) throw notFound('Channel');
  const id = body.id ?? uuidv7();
  if (body.id && (await messageRow(svc.db, appId, body.id))) return storedNote(svc, appId, cid, body.id);
  const userId = body.user_id ?? BOT_USER_ID;
  if (body.user_id) {
    const [u] = await svc.db
      .select({ id: schema.users.id })
      .from(schema.users)
      .where(and(eq(schema.users.appId, appId), eq(schema.users.id, body.user_id), isNull(schema.users.deletedAt)));
    if (!u) throw invalid(`user_id ${body.user_id} names no user of this app`, { user_id: body.user_id });
  } else {
    await svc.db
      .insert(schema.users)
      .values({ appId, id: BOT_USER_ID, name: BOT_NAME, role: 'user' })
      .onConflictDoNothing();
  }
  try {
    return await withTransaction(svc, async (tx, out) => {
      const at = new Date(svc.clock());
      const seq = await takeSeqs(tx, appId, cid, 1);
      const [row] = await tx
        .insert(schema.messages)
        .values({ appId, id, cid, seq, userId, type: 'system', text: body.text, createdAt: at, updatedAt: at })
        .returning();
      const message = presentMessage(row!);
      await logEvents(tx, out, appId, [{ type: 'message.new', cid, seq, created_at: at.toISOString(), message }]);
      return message;
    });
  } catch (err) {
    // Two posts of one id at once: the loser's insert meets the winner's row.
    const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code === '23505' && body.id) return storedNote(svc, appId, cid, body.id);
    throw err;
  }
}

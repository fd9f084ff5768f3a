/**
 * Reactions: one per user and type; the message keeps counts by type and its latest few,
 * updated in the same transaction, so reading a message never aggregates.
 */
import { MAX_REACTION_TYPES, type Message, type Reaction } from '@parley/protocol';
import { and, eq, sql } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { forbidden, invalid } from '../../platform/errors.js';
import { logEvents, takeSeqs, Unchanged, withTransaction } from '../../platform/event-log.js';
import { checkRate } from '../../platform/limits.js';
import type { Services } from '../../services.js';
import { checkReact } from '../channels/index.js';
import { holdInboxTask } from '../inbox/index.js';
import { accessMessage, enrichMessages, ownReactions } from '../messages/index.js';

const LATEST = 10;

// JSON paths are built as `array[$1::text]`, never as a '{…}' array literal made from the
// type: a literal reads `null` (any case) as SQL NULL (jsonb_set then fails) and gives
// meaning to `,`, `"`, `{` and `\`. Bound as one element, any string is one path key.

const latestSql = (appId: string, messageId: string) => sql`(
  select coalesce(jsonb_agg(jsonb_build_object('type', r.type, 'user_id', r.user_id,
           'created_at', to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by r.created_at desc, r.user_id), '[]'::jsonb)
  from (select * from ${schema.reactions} where app_id = ${appId} and message_id = ${messageId}
        order by created_at desc, user_id limit ${LATEST}) r)`;

/** Add a reaction. Adding one you already have changes nothing and logs nothing. */
export async function addReaction(svc: Services, caller: Caller, messageId: string, type: string) {
  const me = requireUser(caller, 'Reactions are made as a user: use a user token');
  const appId = me.app.id;
  const a = await accessMessage(svc.db, me, messageId);
  checkReact(a, svc.clock());
  if (a.message.type !== 'regular') throw forbidden(`A ${a.message.type} message cannot take reactions`);
  await checkRate(svc, 'reactions', appId, me.userId);
  let afterCommit = () => {};
  const done = await withTransaction(svc, async (tx, out): Promise<{ message: Message; reaction: Reaction }> => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const at = new Date();
    const [r] = await tx
      .insert(schema.reactions)
      .values({ appId, messageId, userId: me.userId, type, createdAt: at })
      .onConflictDoNothing()
      .returning();
    const reaction = { type, user_id: me.userId, created_at: at.toISOString() };
    if (!r) {
      const [m] = await enrichMessages(tx, appId, me.userId, [a.message]);
      throw new Unchanged({ message: m, reaction });
    }
    const [row] = await tx
      .update(schema.messages)
      .set({
        reactionCounts: sql`jsonb_set(${schema.messages.reactionCounts}, array[${type}::text],
          to_jsonb(coalesce((${schema.messages.reactionCounts} ->> ${type})::int, 0) + 1))`,
        latestReactions: latestSql(appId, messageId),
      })
      .where(
        and(
          eq(schema.messages.appId, appId),
          eq(schema.messages.id, messageId),
          sql`${schema.messages.deletedAt} is null`,
        ),
      )
      .returning();
    if (!row) throw invalid('The message was deleted');
    if (Object.keys(row.reactionCounts).length > MAX_REACTION_TYPES)
      throw invalid(`A message carries at most ${MAX_REACTION_TYPES} reaction types`);
    const [message] = await enrichMessages(tx, appId, null, [row]);
    await logEvents(
      tx,
      out,
      appId,
      [{ type: 'reaction.new', cid: row.cid, seq, created_at: at.toISOString(), message: message!, reaction }],
      row.shadowed ? row.userId : null,
    );
    // The author's inbox (features/inbox), once per reactor and type: its task commits with the
    // reaction and runs after the commit.
    if (a.message.userId !== me.userId && !a.message.shadowed)
      afterCommit = await holdInboxTask(svc, tx, appId, {
        kind: 'items',
        items: [
          {
            appId,
            userId: a.message.userId,
            kind: 'reaction',
            cid: a.message.cid,
            messageId,
            parentId: a.message.parentId,
            actorId: me.userId,
            reactionType: type,
            dedupe: `r:${messageId}:${me.userId}:${type}`,
          },
        ],
      });
    return { message: { ...message!, own_reactions: await ownReactions(tx, appId, me.userId, messageId) }, reaction };
  });
  afterCommit();
  return done;
}

/** Remove your reaction of a type. Removing one you do not have changes nothing. */
export async function removeReaction(svc: Services, caller: Caller, messageId: string, type: string) {
  const me = requireUser(caller, 'Reactions are made as a user: use a user token');
  const appId = me.app.id;
  const a = await accessMessage(svc.db, me, messageId);
  checkReact(a, svc.clock());
  return withTransaction(svc, async (tx, out): Promise<{ message: Message }> => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const [r] = await tx
      .delete(schema.reactions)
      .where(
        and(
          eq(schema.reactions.appId, appId),
          eq(schema.reactions.messageId, messageId),
          eq(schema.reactions.userId, me.userId),
          eq(schema.reactions.type, type),
        ),
      )
      .returning();
    if (!r) {
      const [m] = await enrichMessages(tx, appId, me.userId, [a.message]);
      throw new Unchanged({ message: m });
    }
    const [row] = await tx
      .update(schema.messages)
      .set({
        reactionCounts: sql`case when coalesce((${schema.messages.reactionCounts} ->> ${type})::int, 0) <= 1
          then ${schema.messages.reactionCounts} - ${type}
          else jsonb_set(${schema.messages.reactionCounts}, array[${type}::text], to_jsonb((${schema.messages.reactionCounts} ->> ${type})::int - 1)) end`,
        latestReactions: latestSql(appId, messageId),
      })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, messageId)))
      .returning();
    const at = new Date();
    const [message] = await enrichMessages(tx, appId, null, [row!]);
    const reaction = { type, user_id: me.userId, created_at: r.createdAt.toISOString() };
    await logEvents(
      tx,
      out,
      appId,
      [{ type: 'reaction.deleted', cid: row!.cid, seq, created_at: at.toISOString(), message: message!, reaction }],
      row!.shadowed ? row!.userId : null,
    );
    return { message: { ...message!, own_reactions: await ownReactions(tx, appId, me.userId, messageId) } };
  });
}

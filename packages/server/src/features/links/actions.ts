/**
 * The links feature's write users can see: removing a preview from your own message. The
 * URL joins the message's `hidden_previews`, so neither the unfurl job nor an edit brings
 * the card back. Access, then one transaction that takes the seq first; `message.updated`
 * after commit; a second removal of the same URL changes nothing and logs nothing.
 */
import type { Message } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { type Caller, requireUser } from '../../platform/auth.js';
import { schema } from '../../platform/db/index.js';
import { forbidden, notFound } from '../../platform/errors.js';
import { logEvents, takeSeqs, Unchanged, withTransaction } from '../../platform/event-log.js';
import type { Services } from '../../services.js';
import { normalizeUrl, previewUrls } from './urls.js';

/** Most removed URLs a message remembers (a message has at most 3 preview URLs at a time). */
const MAX_HIDDEN = 50;

/** Remove the preview of `url` from message `id` (its author only). */
export async function removePreview(svc: Services, caller: Caller, id: string, url: string): Promise<Message> {
  const me = requireUser(caller, 'Previews are removed as a user: use a user token');
  const appId = me.app.id;
  const a = await svc.accessMessage(svc.db, me, id);
  if (a.message.userId !== me.userId) throw forbidden('Only the author may remove a preview');
  const key = normalizeUrl(url);
  if (!key) throw notFound('Preview');
  return withTransaction(svc, async (tx, out) => {
    const seq = await takeSeqs(tx, appId, a.channel.cid, 1);
    const [cur] = await tx
      .select()
      .from(schema.messages)
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, id)));
    if (!cur || cur.deletedAt || cur.type !== 'regular') throw notFound('Message');
    // One of the message's preview URLs now, whether or not its card has arrived yet.
    if (!previewUrls(cur.text).some((u) => normalizeUrl(u) === key)) throw notFound('Preview');
    if (cur.hiddenPreviews.includes(key)) {
      const [same] = await svc.enrichMessages(tx, appId, me.userId, [cur]);
      throw new Unchanged(same);
    }
    const [row] = await tx
      .update(schema.messages)
      .set({
        previews: cur.previews.filter((p) => normalizeUrl(p.url) !== key),
        hiddenPreviews: [...cur.hiddenPreviews, key].slice(-MAX_HIDDEN),
      })
      .where(and(eq(schema.messages.appId, appId), eq(schema.messages.id, id)))
      .returning();
    const message = (await svc.enrichMessages(tx, appId, null, [row ?? cur]))[0] as Message;
    await logEvents(tx, out, appId, [
      { type: 'message.updated', cid: cur.cid, seq, created_at: new Date().toISOString(), message },
    ]);
    return { ...message, own_reactions: await svc.ownReactions(tx, appId, me.userId, id) };
  });
}

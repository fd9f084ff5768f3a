/**
 * A channel's first message, made with the channel in one step (`first_message` of
 * `POST /v1/channels`, the new-group dialog of Slack and WhatsApp). It is checked exactly as a
 * send is — text, rate limit, the app's before-send hook and automod before any transaction
 * (nothing is locked while a hook thinks; a refusal creates no channel) — and written by the
 * one-send path's `storeMessage` inside the transaction that creates the channel, after its
 * members: its mentions resolve against them, `send-message` is checked on the rows just
 * written, and any refusal there rolls the channel back with it.
 */
import { type FirstMessageInput, type Message, uuidv7 } from '@parley/protocol';
import type { Caller } from '../../platform/auth.js';
import { notFound } from '../../platform/errors.js';
import type { FirstMessagePlan, Services } from '../../services.js';
import { checkPost, loadChannel } from '../channels/index.js';
import { previewUrls, UNFURL } from '../links/index.js';
import { checkAutomod, fileAutomodFlag } from '../moderation/index.js';
import { checkCan } from '../permissions/index.js';
import { checkBeforeSend } from '../webhooks/index.js';
import { checkSendRate, checkText, DuplicateId, resolveMentions, storeMessage } from './actions.js';

/** Check a first message as a send to `cid` (which does not exist yet); its `write` stores it. */
export async function planFirstMessage(
  svc: Services,
  me: Caller & { kind: 'user' },
  cid: string,
  input: FirstMessageInput,
): Promise<FirstMessagePlan> {
  const appId = me.app.id;
  checkText(input.text);
  await checkSendRate(svc, appId, me.userId);
  const id = input.id ?? uuidv7();
  let text = input.text;
  const hooks = await svc.hooks.get(appId);
  // The hook is asked about a channel that exists only once it answers yes.
  if (hooks.beforeSend) text = await checkBeforeSend(svc, hooks.beforeSend, appId, me.userId, cid, { text, id });
  // `block` throws MESSAGE_BLOCKED here, before the channel is made; `flag` files after commit.
  const verdict = await checkAutomod(svc, me, cid, text);
  const links = svc.config.linkPreviews && previewUrls(text).length > 0;
  return {
    id,
    async write(tx, out) {
      const a = await loadChannel(tx, me, cid);
      if (!a) throw notFound('Channel');
      checkPost(a, svc.clock());
      const mentions = await resolveMentions(svc, appId, cid, text, tx);
      if (mentions.channel) checkCan(a, 'mention-channel', svc.clock());
      const shadowed = !!a.user?.shadowBanned;
      const inbox =
        !shadowed && (mentions.users.length > 0 || mentions.hereFlag || mentions.channel || a.channel.type === 'dm');
      let sent: Message;
      try {
        sent = await storeMessage(svc, tx, out, {
          me,
          cid,
          id,
          input: { id, text },
          author: a.user,
          parent: null,
          quoted: null,
          mentions,
          shadowed,
          mayReachInbox: inbox,
          inChannel: true,
          at: new Date(),
        });
      } catch (err) {
        if (err instanceof DuplicateId) return null;
        throw err;
      }
      return {
        message: sent,
        // What follows a send once it committed (actions.ts's `send`).
        async committed() {
          if (verdict) await fileAutomodFlag(svc, appId, sent, verdict);
          if (links) svc.jobs.wake(UNFURL.name);
          svc.metrics.messagesSent.inc();
          if (shadowed) return;
          for (const after of svc.afterSend) after(svc, appId, sent.id, { inbox });
        },
      };
    },
  };
}

/**
 * Desktop notifications from the open tab: a mention, a DM (or any message where the level is
 * `all`) that arrives while the tab is in the background, unless the conversation is muted,
 * its level says otherwise, or do-not-disturb is on. The preferences are the server's
 * (`client.notificationSettings()`), read again when the dialog saves them and every few
 * minutes (a DND schedule starts and ends by itself).
 */
import type { Message, NotificationSettings, NotifyLevel } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useEffect } from 'react';
import { permission, SETTINGS_CHANGED, showDesktopNotification, subscribePush } from '../lib/desktop-notify.js';
import { navigate, workspacePath } from '../lib/router.js';

const REFRESH_MS = 5 * 60_000;

export function useDesktopNotifications(workspaceId: string): void {
  const client = useChatClient();
  useEffect(() => {
    let settings: NotificationSettings | null = null;
    let alive = true;
    const refresh = () =>
      client
        .notificationSettings()
        .then((s) => {
          if (alive) settings = s;
        })
        .catch(() => undefined);
    void refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    window.addEventListener(SETTINGS_CHANGED, refresh);
    // Permission given earlier: keep this browser's push subscription registered.
    if (permission() === 'granted') void subscribePush(client, workspaceId).catch(() => undefined);

    const seen = new Set<string>();
    const levelOf = (cid: string): NotifyLevel =>
      settings?.channels.find((c) => c.cid === cid)?.level ?? settings?.level ?? 'mentions';
    const dnd = () =>
      !!settings && (settings.dnd_active || (!!settings.dnd_until && Date.parse(settings.dnd_until) > Date.now()));

    const consider = (cid: string, message: Message, why: 'mention' | 'dm' | 'message') => {
      if (message.user_id === client.me || seen.has(message.id)) return;
      if (document.visibilityState === 'visible' && document.hasFocus()) return;
      const state = client.state.get().channels[cid];
      if (state?.channel.membership?.muted) return;
      const level = levelOf(cid);
      if (level === 'none' || (level === 'mentions' && why === 'message') || dnd()) return;
      seen.add(message.id);
      if (seen.size > 500) seen.delete(seen.values().next().value as string);
      const author = message.user?.name ?? client.state.get().users[message.user_id]?.name ?? 'Someone';
      const isDm = state?.channel.type === 'dm';
      const where = isDm ? author : `#${state?.channel.name ?? cid.split(':')[1]}`;
      const text = message.text.trim() || (message.attachments?.length ? 'sent a file' : '');
      void showDesktopNotification(
        {
          title: message.parent_id ? `Thread in ${where}` : where,
          body: isDm && !message.parent_id ? text : `${author}: ${text}`,
          tag: message.parent_id ? `${cid}/${message.parent_id}` : cid,
          url: workspacePath(workspaceId, cid),
        },
        () => navigate(workspacePath(workspaceId, cid)),
      ).catch(() => undefined);
    };

    const offMention = client.on('notification.new', (e) => consider(e.cid, e.message, 'mention'));
    const offNew = client.on('message.new', (e) => {
      const type = client.state.get().channels[e.cid]?.channel.type;
      consider(e.cid, e.message, type === 'dm' ? 'dm' : 'message');
    });
    return () => {
      alive = false;
      clearInterval(timer);
      window.removeEventListener(SETTINGS_CHANGED, refresh);
      offMention();
      offNew();
    };
  }, [client, workspaceId]);
}

/**
 * In-app toasts (and a sound) for new DMs and mentions in conversations other than the open
 * one (lib/message-alerts.ts). A toast opens its conversation on click and goes by itself after
 * a few seconds (held while the pointer is on it or it has focus); at most three show at once.
 */
import { type Message, type NotificationSettings, type NotifyLevel, parseCid } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useEffect, useRef, useState } from 'react';
import { SETTINGS_CHANGED } from '../lib/desktop-notify.js';
import { ALERTS_CHANGED, type AlertReason, alertPrefs, playMessageSound, shouldAlert } from '../lib/message-alerts.js';

interface Toast {
  id: string;
  cid: string;
  title: string;
  body: string;
}

const SHOW_MS = 6_000;

export function MessageToasts({ openCid, onOpen }: { openCid: string | null; onOpen(cid: string): void }) {
  const client = useChatClient();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const open = useRef(openCid);
  open.current = openCid;
  const hold = useRef<(id: string, held: boolean) => void>(() => {});

  useEffect(() => {
    let settings: NotificationSettings | null = null;
    let prefs = alertPrefs();
    const refresh = () => {
      client.notificationSettings().then(
        (s) => {
          settings = s;
        },
        () => undefined,
      );
    };
    refresh();
    const onPrefs = () => {
      prefs = alertPrefs();
    };
    window.addEventListener(SETTINGS_CHANGED, refresh);
    window.addEventListener(ALERTS_CHANGED, onPrefs);
    const seen = new Set<string>();
    const timers = new Map<string, ReturnType<typeof setTimeout>>();

    const consider = (cid: string, message: Message, reason: AlertReason) => {
      if (seen.has(message.id) || (!prefs.sound && !prefs.toast)) return;
      const state = client.state.get().channels[cid];
      const level: NotifyLevel = settings?.channels.find((c) => c.cid === cid)?.level ?? settings?.level ?? 'mentions';
      const dnd =
        !!settings && (settings.dnd_active || (!!settings.dnd_until && Date.parse(settings.dnd_until) > Date.now()));
      const ok = shouldAlert({
        message: { user_id: message.user_id, cid },
        me: client.me,
        reason,
        openCid: open.current,
        onScreen: document.visibilityState === 'visible',
        muted: !!state?.channel.membership?.muted,
        level,
        dnd,
      });
      if (!ok) return;
      seen.add(message.id);
      if (seen.size > 500) seen.delete(seen.values().next().value as string);
      if (prefs.sound) playMessageSound();
      if (!prefs.toast) return;
      const author = message.user?.name ?? client.state.get().users[message.user_id]?.name ?? 'Someone';
      const where = state?.channel.type === 'dm' ? author : `#${state?.channel.name ?? cid.split(':')[1]}`;
      const toast: Toast = {
        id: message.id,
        cid,
        title: reason === 'dm' ? `${author}` : `${author} mentioned you in ${where}`,
        body: message.text.trim().slice(0, 140) || 'sent a file',
      };
      setToasts((list) => [...list.filter((t) => t.id !== toast.id), toast].slice(-3));
      expire(toast.id);
    };
    /** A toast goes SHOW_MS after it came, or after the pointer or focus left it. */
    const expire = (id: string) => {
      clearTimeout(timers.get(id));
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          setToasts((list) => list.filter((t) => t.id !== id));
        }, SHOW_MS),
      );
    };
    /** Held while the pointer is on it or it has focus: it never goes from under a reader's hand. */
    hold.current = (id, held) => {
      if (!held) expire(id);
      else {
        clearTimeout(timers.get(id));
        timers.delete(id);
      }
    };

    const offMention = client.on('notification.new', (e) => consider(e.cid, e.message, 'mention'));
    const offNew = client.on('message.new', (e) => {
      // By the cid (type:id), not the channel in state: a new DM's first message can arrive
      // before the channel itself is in the state (it missed its toast on a loaded machine).
      if (parseCid(e.cid)?.type !== 'dm') return;
      if (e.message.type !== 'regular') return;
      consider(e.cid, e.message, 'dm');
    });
    return () => {
      window.removeEventListener(SETTINGS_CHANGED, refresh);
      window.removeEventListener(ALERTS_CHANGED, onPrefs);
      offMention();
      offNew();
      for (const t of timers.values()) clearTimeout(t);
      hold.current = () => {};
    };
  }, [client]);

  if (toasts.length === 0) return null;
  return (
    <section className="app-toasts" aria-label="New messages" aria-live="polite">
      {toasts.map((t) => (
        // biome-ignore lint/a11y/noStaticElementInteractions: hover and focus only hold the toast (its buttons are the controls)
        <div
          key={t.id}
          className="app-toast"
          data-testid="message-toast"
          onMouseEnter={() => hold.current(t.id, true)}
          onMouseLeave={() => hold.current(t.id, false)}
          onFocus={() => hold.current(t.id, true)}
          onBlur={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget)) hold.current(t.id, false);
          }}
        >
          <button
            type="button"
            className="app-toast__open"
            onClick={() => {
              setToasts((list) => list.filter((x) => x.id !== t.id));
              onOpen(t.cid);
            }}
          >
            <strong className="app-toast__title">{t.title}</strong>
            <span className="app-toast__body">{t.body}</span>
          </button>
          <button
            type="button"
            className="app-toast__close"
            aria-label="Dismiss"
            onClick={() => setToasts((list) => list.filter((x) => x.id !== t.id))}
          >
            ×
          </button>
        </div>
      ))}
    </section>
  );
}

/**
 * Desktop notifications and Web Push for the web app.
 *
 * - Permission is asked only when the user clicks "Enable desktop notifications" (the banner
 *   of components/notify-banner.tsx), never on load: browsers penalise (and users dismiss)
 *   prompts that come out of nowhere.
 * - With permission, the open tab shows a notification for a mention or a DM that arrives while
 *   it is in the background (`showDesktopNotification`), through the service worker when there
 *   is one (so a click lands in the worker's `notificationclick`, as a push's does) or the
 *   page's own `Notification` otherwise.
 * - It also subscribes the service worker to Web Push with the server's VAPID key, so the
 *   server can reach the user when no tab is open (public/sw.js shows those and opens the
 *   channel on click). The same tag (the collapse key) makes the two replace each other.
 */
import type { ChatClient as Client } from '@parley/client';

export type Permission = 'default' | 'granted' | 'denied' | 'unsupported';

export function permission(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : (Notification.permission as Permission);
}

const SUB_KEY = (workspaceId: string) => `parley.push.${workspaceId}`;

/** Ask for permission (call from a click), then subscribe to Web Push where the browser can. */
export async function enableDesktopNotifications(client: Client, workspaceId: string): Promise<Permission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  const answer = (await Notification.requestPermission()) as Permission;
  // Not awaited: a browser without a reachable push service may take long to give up, and the
  // tab's own notifications work without it.
  if (answer === 'granted') void subscribePush(client, workspaceId).catch(() => undefined);
  return answer;
}

function b64urlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b = atob(
    s
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(s.length / 4) * 4, '='),
  );
  const out = new Uint8Array(new ArrayBuffer(b.length));
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

/**
 * Subscribe the service worker to Web Push and register the subscription with the server.
 * Needs a service worker and a push service (browsers without one — or offline — fail here,
 * and the tab's own notifications still work).
 */
export async function subscribePush(client: Client, workspaceId: string): Promise<void> {
  if (!('serviceWorker' in navigator) || typeof PushManager === 'undefined') return;
  const reg = await navigator.serviceWorker.getRegistration();
  if (!reg) return;
  const key = await client.webPushKey();
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub, key)) {
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64urlToBytes(key) });
  const json = sub.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
  const id = await client.subscribeWebPush({ endpoint: json.endpoint, keys: json.keys });
  localStorage.setItem(SUB_KEY(workspaceId), id);
}

function sameKey(sub: PushSubscription, key: string): boolean {
  const k = sub.options.applicationServerKey;
  if (!k) return false;
  const want = b64urlToBytes(key);
  const have = new Uint8Array(k);
  return have.length === want.length && have.every((b, i) => b === want[i]);
}

/**
 * On sign-out: stop pushes to this browser. Each workspace registered its own subscription (ids
 * kept per workspace); `client` can remove only its own workspace's, the others answer 404 and
 * stay listed for their own sign-out.
 */
export async function forgetPushSubscriptions(client: Client): Promise<void> {
  const keys = Object.keys(localStorage).filter((k) => k.startsWith('parley.push.'));
  for (const key of keys) {
    const id = localStorage.getItem(key);
    if (!id) continue;
    try {
      await client.unsubscribeWebPush(id);
      localStorage.removeItem(key);
    } catch {
      // Another workspace's subscription (or already gone).
    }
  }
}

export interface DesktopNotification {
  title: string;
  body: string;
  /** Notifications with the same tag replace each other (one per conversation or thread). */
  tag: string;
  /** Where a click goes. */
  url: string;
}

/** Show a notification, through the service worker when there is one. */
export async function showDesktopNotification(n: DesktopNotification, onClick: () => void): Promise<void> {
  if (permission() !== 'granted') return;
  const options = { body: n.body, tag: n.tag, data: { url: n.url }, icon: '/icons/icon-192.png' };
  const reg = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
  if (reg?.active) {
    await reg.showNotification(n.title, options);
    return;
  }
  const shown = new Notification(n.title, options);
  shown.onclick = () => {
    window.focus();
    onClick();
    shown.close();
  };
}

/** Fired on window when the notification preferences changed (the dialog saved them). */
export const SETTINGS_CHANGED = 'parley:notification-settings';

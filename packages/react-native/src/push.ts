/**
 * Push on a phone: the app gets a device token from APNs (iOS) or FCM (Android) — with
 * `expo-notifications`' `getDevicePushTokenAsync()` or `@react-native-firebase/messaging`'s
 * `getToken()` — and registers it here, to the server's push targets for the signed-in user.
 * The registration is remembered in the client's storage, so a new token (the OS rotates them)
 * replaces the old one on the server and signing out removes it.
 */
import type { ChatClient, StorageAdapter } from '@parley/client';
import type { PushProvider } from '@parley/protocol';

/** What is remembered of a registration. */
interface Registered {
  provider: PushProvider;
  token: string;
  device_id: string;
  user_id: string;
}

const keyFor = (userId: string) => `parley:push-device:${userId}`;

/** A device token and who delivers to it. */
export interface PushToken {
  /** `apns` for an iOS device token, `fcm` for an FCM registration token (Android, or iOS through Firebase). */
  provider: PushProvider;
  token: string;
}

/**
 * Register this device's push token for the connected user (call after `connectUser`, and again
 * whenever the OS hands out a new token). Registering is idempotent on the server; a token
 * different from the one remembered replaces it (the old one is removed). Resolves with the
 * server's device id.
 */
export async function registerPushToken(client: ChatClient, push: PushToken, storage: StorageAdapter): Promise<string> {
  const me = client.me;
  const before = await storage.get<Registered>(keyFor(me)).catch(() => undefined);
  const id = await client.registerDevice(push.provider, push.token);
  if (before && before.device_id !== id) await client.removeDevice(before.device_id).catch(() => {});
  await storage.set<Registered>(keyFor(me), { provider: push.provider, token: push.token, device_id: id, user_id: me });
  return id;
}

/**
 * Remove this device's registration for the connected user (call before `disconnectUser` when
 * signing out: the next person on the phone must not get the last one's notifications). Resolves
 * false when nothing was registered.
 */
export async function unregisterPushToken(client: ChatClient, storage: StorageAdapter): Promise<boolean> {
  const me = client.me;
  const before = await storage.get<Registered>(keyFor(me)).catch(() => undefined);
  if (!before) return false;
  await client.removeDevice(before.device_id).catch((e: { code?: string }) => {
    if (e.code !== 'NOT_FOUND') throw e;
  });
  await storage.delete(keyFor(me));
  return true;
}

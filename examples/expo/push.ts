/**
 * Push: ask the user, get this device's native token (APNs on iOS, FCM on Android) and register
 * it with Parley; a rotated token is registered again. Needs a development or store build (not
 * Expo Go) with the app's push credentials: see README.md.
 */
import type { ChatClient, StorageAdapter } from '@parley/client';
import { registerPushToken } from '@parley/react-native';
import * as Device from 'expo-device';
import * as Notifications from 'expo-notifications';

const providerOf = (type: string) => (type === 'ios' ? 'apns' : 'fcm') as 'apns' | 'fcm';

export async function registerForPush(client: ChatClient, storage: StorageAdapter): Promise<void> {
  if (!Device.isDevice) return; // simulators get no token
  const { status } = await Notifications.requestPermissionsAsync();
  if (status !== 'granted') return;
  const { type, data } = await Notifications.getDevicePushTokenAsync();
  await registerPushToken(client, { provider: providerOf(type), token: String(data) }, storage);
  Notifications.addPushTokenListener(({ type: t, data: d }) => {
    void registerPushToken(client, { provider: providerOf(t), token: String(d) }, storage).catch(() => {});
  });
}

/**
 * Native push providers behind one interface: an app's APNs or FCM configuration becomes a
 * `NativePush` that sends one notification to one device token and says whether the token is
 * gone (the device is then dropped) or the failure is worth a retry.
 */
export interface NativeNotification {
  title: string;
  body: string;
  badge: number;
  /** Groups a thread's notifications on the device (APNs thread-id, Android tag). */
  collapseKey: string;
  /** The collapse key made short enough for every provider (APNs: 64 bytes). */
  collapseId: string;
  /** String fields the app reads on tap (`cid`, `message_id`, …). */
  data: Record<string, string>;
}

export type PushResult = { ok: true } | { ok: false; gone: boolean; retry?: boolean; detail: string };

export interface NativePush {
  send(token: string, n: NativeNotification): Promise<PushResult>;
}

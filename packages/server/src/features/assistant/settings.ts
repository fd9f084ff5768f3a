/**
 * An app's assistant settings (`assistant_settings`): read per call for catch-up and smart
 * replies (they are not on any hot path), and kept in memory for AI moderation, which runs on
 * every send: `ModerationRegistry` holds the settings of the apps whose moderation is on, read
 * once at start and again for one app when it changes (on this node at once, on the others by a
 * word on the broker), so a send in an app without it costs a map lookup and no query.
 */
import type { SmartRepliesMode } from '@parley/protocol';
import { and, eq } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { Sealer } from '../../platform/secrets.js';
import type { Broker, BusMessage } from '../../realtime/broker.js';
import type { ProviderTarget } from './provider.js';

export const ASSISTANT_TOPIC = 'x:assistant';

export type SettingsRow = typeof schema.assistantSettings.$inferSelect;

/** The settings, with the key opened. */
export interface Assistant {
  enabled: boolean;
  target: ProviderTarget;
  timeoutMs: number;
  catchUp: boolean;
  smartReplies: boolean;
  /** Clients ask for smart replies by themselves (`automatic`) rather than on a click. */
  smartRepliesAuto: boolean;
  moderation: boolean;
  moderationTimeoutMs: number;
  moderationFailOpen: boolean;
}

export function openSettings(sealer: Sealer, r: SettingsRow): Assistant {
  return {
    enabled: r.enabled,
    target: { url: r.url, model: r.model, key: r.keySealed ? sealer.open(r.keySealed) : null },
    timeoutMs: r.timeoutMs,
    catchUp: r.catchUp,
    smartReplies: r.smartReplies,
    smartRepliesAuto: r.smartRepliesAuto,
    moderation: r.moderation,
    moderationTimeoutMs: r.moderationTimeoutMs,
    moderationFailOpen: r.moderationFailOpen,
  };
}

/** How clients offer smart replies: `off` unless they are on (and the assistant, when `enabled` is given). */
export function smartRepliesMode(
  a: (Pick<Assistant, 'smartReplies' | 'smartRepliesAuto'> & { enabled?: boolean }) | null,
): SmartRepliesMode {
  if (!a || a.enabled === false || !a.smartReplies) return 'off';
  return a.smartRepliesAuto ? 'automatic' : 'on_request';
}

/** The app's assistant, or null when it has none. */
export async function loadAssistant(q: Queryable, sealer: Sealer, appId: string): Promise<Assistant | null> {
  const [r] = await q.select().from(schema.assistantSettings).where(eq(schema.assistantSettings.appId, appId));
  return r ? openSettings(sealer, r) : null;
}

/** The settings of every app whose AI moderation is on, in memory. */
export class ModerationRegistry {
  private readonly on = new Map<string, Assistant>();
  /** Bumped by every change: a read begun before one does not overwrite it. */
  private epoch = new Map<string, number>();

  constructor(
    private readonly db: Queryable,
    private readonly sealer: Sealer,
    private readonly broker: Broker,
  ) {
    broker.subscribe(ASSISTANT_TOPIC);
  }

  /** Read every app's (at start). */
  async load(): Promise<void> {
    const t = schema.assistantSettings;
    const rows = await this.db
      .select()
      .from(t)
      .where(and(eq(t.enabled, true), eq(t.moderation, true)));
    for (const r of rows) this.on.set(r.appId, openSettings(this.sealer, r));
  }

  /** The app's settings when its moderation is on; undefined (no query) when it is not. */
  get(appId: string): Assistant | undefined {
    return this.on.get(appId);
  }

  /** An app's settings changed (after commit): read them here, and tell every other node. */
  async changed(appId: string): Promise<void> {
    this.broker.publish(ASSISTANT_TOPIC, { type: 'assistant.changed', frame: JSON.stringify({ appId }) });
    await this.reload(appId);
  }

  /** A broker message on ASSISTANT_TOPIC. */
  receive(msg: BusMessage): void {
    try {
      const m = JSON.parse(msg.frame) as { appId?: unknown };
      if (typeof m.appId === 'string') void this.reload(m.appId).catch(() => this.on.delete(m.appId as string));
    } catch {
      // not ours
    }
  }

  private async reload(appId: string): Promise<void> {
    const epoch = (this.epoch.get(appId) ?? 0) + 1;
    this.epoch.set(appId, epoch);
    this.on.delete(appId);
    const a = await loadAssistant(this.db, this.sealer, appId);
    if (this.epoch.get(appId) !== epoch) return;
    if (a?.enabled && a.moderation) this.on.set(appId, a);
  }
}

/**
 * Each app's hook settings — its webhook endpoints and its before-send hook — kept in memory,
 * so a send in an app with neither costs no query at all (the hot path stays as it was). A
 * change is applied on this node at once and announced to the others on a control topic; a
 * short lifetime bounds how stale a node that missed the notice can be.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import { allowFor, outboundSetting } from '../../platform/outbound.js';
import type { Broker, BusMessage } from '../../realtime/broker.js';
import { WebhookSender } from './sender.js';

export const HOOKS_TOPIC = 'x:hooks';
const TTL_MS = 30_000;

export interface EndpointSettings {
  id: string;
  url: string;
  /** The signing secret, opened. */
  secret: string;
  /** During a rotation: the previous secret, which signs too until `until` (ms). */
  previous: { secret: string; until: number } | null;
  events: string[];
  /**
   * Whether it is sent to. An inactive one (paused, or disabled after a day of failures) still
   * has its deliveries written — they wait for it (the retention) — but its lanes are not woken.
   */
  active: boolean;
  /** When it was last made active again (ms; 0: never paused): a delivery's day of retries counts from then. */
  resumedAt: number;
}

/** The secrets that sign a request to `ep` now: the current one, and the previous one during its overlap. */
export function signingSecrets(ep: EndpointSettings, now = Date.now()): string[] {
  return ep.previous && ep.previous.until > now ? [ep.secret, ep.previous.secret] : [ep.secret];
}

export interface BeforeSendSettings {
  url: string;
  secret: string;
  timeoutMs: number;
  failOpen: boolean;
}

export interface HookSettings {
  /**
   * Every endpoint, active or not: whatever writes deliveries writes them for inactive ones too
   * (they wait for it); whatever sends checks `active`.
   */
  endpoints: EndpointSettings[];
  beforeSend: BeforeSendSettings | null;
}

export class HookRegistry {
  private readonly cache = new Map<string, { at: number; settings: HookSettings }>();
  /** Loads under way outside a transaction: a burst of sends after a miss shares one. */
  private readonly loading = new Map<string, Promise<HookSettings>>();
  private readonly origin = randomUUID();
  /** Bumped by every invalidation: a load that began before one is not cached. */
  private epoch = 0;
  private hookSender: WebhookSender | null = null;

  constructor(
    private readonly svc: () => Infra,
    private readonly broker: Broker,
  ) {
    broker.subscribe(HOOKS_TOPIC);
  }

  /** The app's settings: from memory, or read (through `q`, which may be an open transaction). */
  async get(appId: string, q?: Queryable): Promise<HookSettings> {
    const hit = this.cache.get(appId);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.settings;
    // A transaction may hold changes of its own, so it reads for itself.
    if (q) return this.load(appId, q);
    const under = this.loading.get(appId);
    if (under) return under;
    const load = this.load(appId, this.svc().db).finally(() => {
      if (this.loading.get(appId) === load) this.loading.delete(appId);
    });
    this.loading.set(appId, load);
    return load;
  }

  private async load(appId: string, db: Queryable): Promise<HookSettings> {
    const epoch = this.epoch;
    const sealer = this.svc().sealer;
    const [eps, hooks] = await Promise.all([
      db
        .select({
          id: schema.webhookEndpoints.id,
          url: schema.webhookEndpoints.url,
          secretSealed: schema.webhookEndpoints.secretSealed,
          events: schema.webhookEndpoints.events,
          disabledAt: schema.webhookEndpoints.disabledAt,
          resumedAt: schema.webhookEndpoints.resumedAt,
          previousSecretSealed: schema.webhookEndpoints.previousSecretSealed,
          previousSecretExpiresAt: schema.webhookEndpoints.previousSecretExpiresAt,
        })
        .from(schema.webhookEndpoints)
        .where(eq(schema.webhookEndpoints.appId, appId)),
      db
        .select()
        .from(schema.appHooks)
        .where(and(eq(schema.appHooks.appId, appId))),
    ]);
    const h = hooks[0];
    const settings: HookSettings = {
      endpoints: eps.map((e) => ({
        id: e.id,
        url: e.url,
        secret: sealer.open(e.secretSealed),
        previous:
          e.previousSecretSealed && e.previousSecretExpiresAt
            ? { secret: sealer.open(e.previousSecretSealed), until: e.previousSecretExpiresAt.getTime() }
            : null,
        events: e.events,
        active: e.disabledAt === null,
        resumedAt: e.resumedAt?.getTime() ?? 0,
      })),
      beforeSend: h
        ? { url: h.beforeSendUrl, secret: sealer.open(h.secretSealed), timeoutMs: h.timeoutMs, failOpen: h.failOpen }
        : null,
    };
    if (epoch === this.epoch) this.cache.set(appId, { at: Date.now(), settings });
    return settings;
  }

  /**
   * Where before-send calls go out: kept-alive connections, a pool per app (its hook's own
   * connections, so a slow hook holds only its app's), each to the address its check allowed.
   */
  get sender(): WebhookSender {
    this.hookSender ??= new WebhookSender({
      allow: allowFor(this.svc().config, 'before_send'),
      setting: outboundSetting('before_send'),
      timeoutMs: 10_000,
      connections: null,
    });
    return this.hookSender;
  }

  /**
   * Whether this node knows `endpointId` to be inactive, from memory only (never a query): a
   * wake for its lanes is dropped, since nothing is sent to it. Not known (not cached): false,
   * and the lane finds out when it looks.
   */
  knownInactive(appId: string, endpointId: string): boolean {
    const hit = this.cache.get(appId);
    if (!hit) return false;
    for (const e of hit.settings.endpoints) if (e.id === endpointId) return !e.active;
    return false;
  }

  /** Close the hook connections (at shutdown). */
  async close(): Promise<void> {
    const s = this.hookSender;
    this.hookSender = null;
    await s?.close();
  }

  /** Forget an app's settings here and on every node. Call after the change commits. */
  changed(appId: string): void {
    this.forget(appId);
    this.broker.publish(HOOKS_TOPIC, { type: 'hooks.changed', frame: JSON.stringify({ appId, from: this.origin }) });
  }

  /** A broker message on HOOKS_TOPIC (routed here by the hub). */
  receive(msg: BusMessage): void {
    try {
      const m = JSON.parse(msg.frame) as { appId?: unknown; from?: unknown };
      if (m.from !== this.origin && typeof m.appId === 'string') this.forget(m.appId);
    } catch {
      // not ours
    }
  }

  private forget(appId: string): void {
    this.epoch++;
    this.cache.delete(appId);
    // A load begun before the change may have read the old settings: later callers read anew.
    this.loading.delete(appId);
  }
}

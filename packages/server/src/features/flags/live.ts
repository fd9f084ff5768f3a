/**
 * Flags delivered live, without a request: a connection's hello carries its user's evaluated
 * flags, and each `feature_flags.updated` reaches each connection with its own `value`.
 *
 * Each node keeps the flag rules of the apps it served in memory (`FlagRules`), read once per app
 * and forgotten at every change: on this node at once, on the others by a word on the broker
 * (`FLAGS_TOPIC`), and again by any node whose connections receive the change's event — the
 * hub hands that event here (`personalFlagFrames`) before it writes it, and the rules are read
 * afresh after the commit, so the value each connection gets is the flag as committed. A
 * connect costs no query while its app's rules are known here.
 */
import { asc, eq } from 'drizzle-orm';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { Broker, BusMessage } from '../../realtime/broker.js';
import type { Services } from '../../services.js';
import { evaluateFlag, type FlagRule } from './evaluate.js';

/** Nodes tell each other that an app's flags changed (`{appId}`). */
export const FLAGS_TOPIC = 'x:flags';

export class FlagRules {
  private readonly known = new Map<string, Promise<FlagRule[]>>();

  constructor(
    private readonly db: Queryable,
    private readonly broker: Broker,
  ) {
    broker.subscribe(FLAGS_TOPIC);
  }

  /** The app's flag rules, by key; read once until they change. */
  rules(appId: string): Promise<FlagRule[]> {
    let p = this.known.get(appId);
    if (p) return p;
    const f = schema.featureFlags;
    // `.then` makes it a promise that runs the query once: a query builder kept as it is (a
    // thenable) runs its query again at every await, which put a query in every connect.
    p = this.db
      .select({ key: f.key, enabled: f.enabled, percentage: f.percentage, userIds: f.userIds })
      .from(f)
      .where(eq(f.appId, appId))
      .orderBy(asc(f.key))
      .then((rows) => rows);
    this.known.set(appId, p);
    // A failed read is not kept: the next asker tries again.
    p.catch(() => {
      if (this.known.get(appId) === p) this.known.delete(appId);
    });
    return p;
  }

  /** Every flag of the app, evaluated for `userId` (what `GET /v1/me/flags` answers). */
  async evaluated(appId: string, userId: string): Promise<Record<string, boolean>> {
    const flags: Record<string, boolean> = {};
    for (const r of await this.rules(appId)) flags[r.key] = evaluateFlag(r, userId);
    return flags;
  }

  /**
   * The app's flags changed (after commit): forget them here. A read under way when they changed
   * is forgotten too (it may hold the old rules): whoever asks next reads again.
   */
  forget(appId: string): void {
    this.known.delete(appId);
  }

  /** After a change commits: forget here, and tell every other node. */
  changed(appId: string): void {
    this.forget(appId);
    this.broker.publish(FLAGS_TOPIC, { type: 'flags.changed', frame: JSON.stringify({ appId }) });
  }

  /** A broker message on FLAGS_TOPIC. */
  receive(msg: BusMessage): void {
    try {
      const m = JSON.parse(msg.frame) as { appId?: unknown };
      if (typeof m.appId === 'string') this.forget(m.appId);
    } catch {
      // not ours
    }
  }

  /**
   * The hub's personalizer of `feature_flags.updated` (realtime/hub.ts `personalize`): the event
   * as the app's connections get it, each with its user's `value` of the changed flag.
   */
  async personalFrames(appId: string, frame: string): Promise<(userId: string) => string> {
    this.forget(appId);
    const event = JSON.parse(frame) as { key: string };
    const rule = (await this.rules(appId)).find((r) => r.key === event.key);
    return (userId) => JSON.stringify({ ...event, value: rule ? evaluateFlag(rule, userId) : false });
  }
}

const perServer = new WeakMap<Services, FlagRules>();

/** This server's flag rules (made on first use: at the wiring in app.ts). */
export function liveFlags(svc: Services): FlagRules {
  let r = perServer.get(svc);
  if (!r) {
    r = new FlagRules(svc.db, svc.broker);
    perServer.set(svc, r);
  }
  return r;
}

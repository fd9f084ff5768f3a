/**
 * The webhook pump: how a node sends the webhook deliveries that commits wrote (the outbox,
 * outbox.ts and the send batch's statement). One per node, in memory, its bookkeeping batched.
 *
 * Order. A lane is an endpoint's deliveries of one channel (or of one user, `user:<id>`); its
 * rows are sent one at a time in `n` order (commit order within a lane) and the next waits
 * for the previous one's answer, so a receiver sees each channel's events in order. Lanes are
 * independent: an endpoint has as many requests in flight as it has busy lanes (at most
 * `PER_ENDPOINT`), each on a kept-alive connection (sender.ts).
 *
 * One sender per lane. A node sends a lane only while it holds the lane's lease
 * (`webhook_lanes`: owner = this node, renewed every quarter of `webhookLeaseSeconds` for all
 * its lanes in one statement, lapsing after it). A node that cannot renew stops sending well
 * before its leases could lapse. A crash lets them lapse, and the sweep (every
 * `webhookSweepSeconds`, on one node) hands lanes with due deliveries and no live lease to the
 * node that runs it. The delivery that was in
 * flight may then be sent twice (at least once), under the same `X-Parley-Delivery` id.
 *
 * Wakes. After a commit that wrote deliveries, the committing node wakes their lanes here, in
 * memory: a lane it holds reads again when it is free; one it does not hold is claimed. A claim
 * lost to another node is announced on `x:webhooks`, so the holder reads again; a holder that
 * lets a lane go looks once more for due rows after the release has committed, so a delivery
 * that committed meanwhile is not left waiting (its claim failed before that release).
 *
 * Bookkeeping, batched. Everything that touches the database goes through one `tick` at a time:
 * record the attempts that ended (landed and failed, one statement), release idle lanes (one,
 * and one to look again), claim woken lanes (one), read the rows of lanes that ran dry (one,
 * up to `PAGE` rows a lane). Sends run beside it; their outcomes wait for the next tick, so a
 * burst is a few statements a tick, not a few a delivery. Attempts are recorded before the lane
 * is read again or let go, so a landed delivery is never read again as pending.
 *
 * Failures. A failed attempt holds its lane (later events wait behind it, as order requires)
 * and is retried with exponential backoff (base doubling, capped at an hour, ±10 % jitter):
 * short waits are slept, longer ones park the lane (its rows dropped from memory, its lease
 * kept) until the head is due. Past `webhookMaxAgeMs` (a day) a delivery fails for good and
 * its endpoint is disabled with the reason; its pending deliveries wait for it to be
 * re-enabled. A slow or failing endpoint holds at most `PER_ENDPOINT` of the node's
 * `MAX_IN_FLIGHT` requests, so other endpoints and other apps go on.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Infra } from '../../infra.js';
import { rows, schema } from '../../platform/db/index.js';
import { allowFor, outboundSetting } from '../../platform/outbound.js';
import { eventTrace, outbound, type TraceContext, tracingOn, untraced } from '../../platform/tracing.js';
import type { BusMessage } from '../../realtime/broker.js';
import { type Attempt, WebhookSender } from './sender.js';
import { type EndpointSettings, type HookRegistry, signingSecrets } from './settings.js';
import { signatureHeader } from './signature.js';

/** A lane: an endpoint's deliveries of one channel (`cid`) or one user (`user:<id>`). */
export interface LaneRef {
  appId: string;
  endpointId: string;
  lane: string;
}

export const WEBHOOKS_TOPIC = 'x:webhooks';

/** Rows read per lane at a time (each still sent one at a time, in order). */
const PAGE = 100;
/** Rows held in memory by all lanes together, at most (about): PAGE shrinks as lanes grow. */
const MAX_ROWS = 20_000;
/** Waits up to this long are slept; a head due later parks its lane until then. */
const SLEEP_MAX_MS = 2_000;
const BACKOFF_CAP_MS = 3600_000;
/**
 * A lane with nothing to send is let go after this long (a busy channel keeps its lane). At
 * 2 s, a channel with a message every second or so was claimed again for one in ten of its
 * messages (a statement each); holding one costs nothing but a share of the one renewal.
 */
const IDLE_MS = 10_000;
/** Requests one endpoint may have open at once from this node, and all endpoints together. */
export const PER_ENDPOINT = 64;
const MAX_IN_FLIGHT = 256;
/**
 * A tick starts at least this long after the previous one started. Under load the wakes and
 * outcomes of that span share one round of statements (at 400 sends/s over 64 channels, a
 * tick per wake was a read and an update per delivery, 1.04 statements a send; at 25 ms, 0.2).
 * At 100 sends/s a 25 ms tick still read and recorded for two or three sends (0.9 statements
 * a send); at 100 ms, 0.3, and the send with an endpoint cost the server 0.4 ms and PostgreSQL
 * 0.1 ms more than without one, against 0.6 and 0.3 (bench/webhooks.ts at 200/s). A delivery
 * under steady load waits up to a tick longer (commit→received p50 33 → 73 ms there); an idle
 * pump's first tick is at once.
 */
const TICK_MS = 100;
/**
 * A node that sends nothing (an API node, or the main thread beside a background thread)
 * announces its wakes at most this often: the first at once, those after it within the span
 * together, each lane once — not a broker message per commit. The sending side ticks at most
 * every TICK_MS under load anyway, so no delivery waits longer for it.
 */
const ANNOUNCE_MS = 25;
/** The delivery log keeps finished deliveries for a week, pruned hourly. */
const KEEP_DAYS = 7;

/** The delay before attempt `attempts + 1`, after `attempts` failures. */
export function backoffMs(base: number, attempts: number, random = Math.random()): number {
  const d = Math.min(BACKOFF_CAP_MS, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(d * (0.9 + 0.2 * random));
}

interface Row {
  n: number;
  appId: string;
  id: string;
  eventType: string;
  body: string;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
}

interface Lane extends LaneRef {
  key: string;
  rows: Row[];
  /** Sending its rows now. */
  busy: boolean;
  /** Its rows are to be read (or being read) in a tick. */
  reading: boolean;
  /** Woken since its rows were read: read again once they are sent. */
  dirty: boolean;
  /** Its last read filled a page: more may wait. */
  full: boolean;
  /** Parked: its head waits out a backoff until this timer fires. */
  parked: NodeJS.Timeout | null;
  /** When it last ran dry (0 while it has work). */
  idleSince: number;
}

/** An attempt's outcome, to record in the next tick. */
interface Outcome {
  app_id: string;
  id: string;
  attempts: number;
  status: number | null;
  error: string | null;
  latency: number;
  /** Delivered, or (when null) scheduled again at `next`. */
  ok: boolean;
  next: string | null;
}

/** The trace that published a delivery's event (its body begins with the event's id). */
function deliveryTrace(d: { appId: string; body: string }): TraceContext | undefined {
  const m = /^\{"event_id":("(?:[^"\\]|\\.)*")/.exec(d.body);
  return m?.[1] ? eventTrace(d.appId, JSON.parse(m[1]) as string) : undefined;
}

/** The headers of one attempt at a delivery: signed now, under each secret that signs (settings.ts). */
function requestHeaders(
  ep: EndpointSettings,
  d: { id: string; eventType: string; body: string },
  attempt: number,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Parley-Webhooks/1.0',
    'x-parley-signature': signatureHeader(signingSecrets(ep), Math.floor(Date.now() / 1000), d.body),
    'x-parley-event': d.eventType,
    'x-parley-delivery': d.id,
    'x-parley-attempt': String(attempt),
  };
}

/** Pumps alive in this process (tests run several nodes on one embedded database). */
const live = new Set<string>();

const laneKey = (r: { endpointId: string; lane: string }) => `${r.endpointId}\n${r.lane}`;

export class WebhookPump {
  private readonly owner = randomUUID();
  private readonly leaseSeconds: number;
  private readonly held = new Map<string, Lane>();
  private readonly toClaim = new Map<string, LaneRef>();
  private readonly toRelease = new Set<Lane>();
  private outcomes: Outcome[] = [];
  private ticking = false;
  private again = false;
  private lastStep = 0;
  private stopped = false;
  private readonly runs = new Set<Promise<void>>();
  private readonly sender: WebhookSender;
  private readonly timers: NodeJS.Timeout[] = [];
  private renewedAt = Date.now();
  /** Requests in flight: by endpoint, in all, and the lanes waiting for a free one. */
  private readonly open = new Map<string, number>();
  private inFlight = 0;
  private readonly waiting: { endpointId: string; go: () => void }[] = [];
  private readonly pruned = new Map<string, number>();
  /** Lanes woken here and not yet announced (a node that sends nothing), and when it last announced. */
  private readonly toAnnounce = new Map<string, LaneRef>();
  private announceTimer: NodeJS.Timeout | null = null;
  private announcedAt = 0;
  private readonly m: {
    outcomes: Counter<'outcome'>;
    lag: Histogram;
  };

  constructor(
    private readonly svc: Infra,
    /** Each app's endpoints (url, secret, whether active), cached. */
    private readonly hooks: HookRegistry,
    /** Whether this node sends (a node that runs no jobs only wakes the ones that do). */
    private readonly sends: boolean,
  ) {
    const { config } = svc;
    this.leaseSeconds = config.webhookLeaseSeconds;
    this.sender = new WebhookSender({
      allow: allowFor(config, 'webhooks'),
      setting: outboundSetting('webhooks'),
      timeoutMs: config.webhookTimeoutMs,
      connections: PER_ENDPOINT,
    });
    const registers = [svc.metrics.registry];
    const self = this;
    this.m = {
      outcomes: new Counter({
        name: 'parley_webhook_attempts_total',
        help: 'Webhook delivery attempts this node made, by outcome (delivered, failed, gave_up)',
        labelNames: ['outcome'],
        registers,
      }),
      lag: new Histogram({
        name: 'parley_webhook_delivery_seconds',
        help: 'From a delivery being written (its commit) to its receiver answering 2xx',
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600],
        registers,
      }),
    };
    new Gauge({
      name: 'parley_webhook_lanes_held',
      help: 'Webhook lanes (endpoint × channel) this node holds',
      registers,
      collect() {
        this.set(self.held.size);
      },
    });
    new Gauge({
      name: 'parley_webhook_requests_in_flight',
      help: 'Webhook requests this node has open',
      registers,
      collect() {
        this.set(self.inFlight);
      },
    });
    svc.broker.subscribe(WEBHOOKS_TOPIC);
  }

  /** Begin: renewals and idle releases on timers; on PGlite, leases a dead process left are void. */
  async start(): Promise<void> {
    if (!this.sends) return;
    live.add(this.owner);
    // A database this start made from the template holds no lease and no delivery.
    const fresh = this.svc.database.fresh === true;
    if (this.svc.database.kind === 'pglite' && !fresh)
      // One process owns an embedded database: a lease of no pump alive in it is a previous run's.
      await this.svc.db.execute(
        sql`update ${schema.webhookLanes} set owner = null, leased_until = 'epoch'
          where owner is not null and owner <> all(${`{${[...live].join(',')}}`}::uuid[])`,
      );
    const renew = setInterval(() => void this.renew(), (this.leaseSeconds * 1000) / 4);
    const housekeeping = setInterval(() => this.letIdleGo(), IDLE_MS / 2);
    renew.unref();
    housekeeping.unref();
    this.timers.push(renew, housekeeping);
    // Lanes with due deliveries and no sender (a crash, or the deliveries of a previous run).
    if (!fresh) await this.sweep(0).catch((err) => this.svc.log.warn({ err }, 'webhooks: first sweep failed'));
  }

  /**
   * Lanes whose deliveries just committed: send them (here, or on the node that holds them).
   * Lanes of an endpoint this node knows to be inactive are not woken: their deliveries wait for
   * it to be made active again, which wakes them (actions.ts), so a paused endpoint costs no
   * claim, read or release per send — only its rows.
   */
  wake(all: readonly LaneRef[]): void {
    // The lanes' senders outlive the request that woke them: outside its trace.
    if (tracingOn()) untraced(() => this.wakeLanes(all));
    else this.wakeLanes(all);
  }

  private wakeLanes(all: readonly LaneRef[]): void {
    const lanes = all.filter((l) => !this.hooks.knownInactive(l.appId, l.endpointId));
    if (lanes.length === 0) return;
    if (this.stopped) {
      this.announce(lanes);
      return;
    }
    if (!this.sends) {
      this.announceSoon(lanes);
      return;
    }
    for (const ref of lanes) {
      const lane = this.held.get(laneKey(ref));
      if (lane) this.poke(lane);
      else this.toClaim.set(laneKey(ref), { appId: ref.appId, endpointId: ref.endpointId, lane: ref.lane });
    }
    this.schedule();
  }

  /** A message on WEBHOOKS_TOPIC: lanes another node could not claim, or woke without sending. */
  receive(msg: BusMessage): void {
    if (!this.sends || this.stopped) return;
    let m: { from?: string; lanes?: LaneRef[]; claim?: boolean };
    try {
      m = JSON.parse(msg.frame);
    } catch {
      return;
    }
    if (m.from === this.owner || !Array.isArray(m.lanes)) return;
    for (const ref of m.lanes) {
      const lane = this.held.get(laneKey(ref));
      if (lane) this.poke(lane);
      // From a node that sends nothing: somebody must claim it.
      else if (m.claim) this.toClaim.set(laneKey(ref), ref);
    }
    this.schedule();
  }

  /** Announce `lanes` now if the last announcement is ANNOUNCE_MS old, else with the next one. */
  private announceSoon(lanes: readonly LaneRef[]): void {
    for (const l of lanes) this.toAnnounce.set(laneKey(l), l);
    if (this.announceTimer) return;
    const wait = this.announcedAt + ANNOUNCE_MS - Date.now();
    if (wait <= 0) this.announcePending();
    else this.announceTimer = setTimeout(() => this.announcePending(), wait);
  }

  private announcePending(): void {
    if (this.announceTimer) clearTimeout(this.announceTimer);
    this.announceTimer = null;
    if (this.toAnnounce.size === 0) return;
    this.announcedAt = Date.now();
    const lanes = [...this.toAnnounce.values()];
    this.toAnnounce.clear();
    this.announce(lanes);
  }

  private announce(lanes: readonly LaneRef[], claim = true): void {
    const frame = JSON.stringify({
      from: this.owner,
      claim,
      lanes: lanes.map((l) => ({ appId: l.appId, endpointId: l.endpointId, lane: l.lane })),
    });
    this.svc.broker.publish(WEBHOOKS_TOPIC, { type: 'webhooks.wake', frame });
  }

  /** A held lane has something new: read it now if it is idle, else once it is. */
  private poke(lane: Lane): void {
    lane.dirty = true;
    if (!lane.busy && !lane.reading && !lane.parked) this.read(lane);
  }

  private read(lane: Lane): void {
    lane.reading = true;
    lane.dirty = false;
    lane.idleSince = 0;
    this.toRelease.delete(lane);
    this.schedule();
  }

  private schedule(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    setImmediate(() => void this.tick());
  }

  private async tick(): Promise<void> {
    try {
      do {
        this.again = false;
        const gap = this.lastStep + TICK_MS - performance.now();
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
        this.lastStep = performance.now();
        if (!(await this.step())) {
          // The database said no: try again in a second, nothing lost (the work stays queued).
          await new Promise((r) => setTimeout(r, 1_000));
          this.again = !this.stopped;
        }
      } while (this.again && !this.stopped);
    } finally {
      this.ticking = false;
    }
  }

  /** One round of bookkeeping; false when a statement failed (the round's work stays queued). */
  private async step(): Promise<boolean> {
    const toRead = [...this.held.values()].filter((l) => l.reading);
    const outcomes = this.outcomes;
    this.outcomes = [];
    try {
      await this.record(outcomes);
    } catch (err) {
      this.outcomes = [...outcomes, ...this.outcomes];
      this.svc.log.warn({ err }, 'webhooks: attempts not recorded; trying again');
      return false;
    }
    try {
      await this.releaseIdle();
      await this.claim(toRead);
      await this.readRows(toRead);
    } catch (err) {
      this.svc.log.warn({ err }, 'webhooks: lane bookkeeping failed; trying again');
      return false;
    }
    return true;
  }

  private async record(outcomes: readonly Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.svc.db.execute(
      sql`update ${schema.webhookDeliveries} w set
          status = case when v.ok then 'delivered' else w.status end,
          attempts = v.attempts, response_status = v.status, error = v.error, latency_ms = v.latency,
          delivered_at = case when v.ok then now() else w.delivered_at end,
          next_attempt_at = coalesce(v.next, w.next_attempt_at)
        from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb)
          as v(app_id uuid, id uuid, attempts int, status int, error text, latency int, ok boolean, next timestamptz)
        where w.app_id = v.app_id and w.id = v.id`,
    );
  }

  /** Let go of lanes idle past IDLE_MS (or dropped), then look once more for due rows in them. */
  private async releaseIdle(): Promise<void> {
    if (this.toRelease.size === 0) return;
    const going = [...this.toRelease].filter((l) => !l.busy && !l.reading && !l.parked);
    this.toRelease.clear();
    if (going.length === 0) return;
    const keys = JSON.stringify(going.map((l) => ({ endpoint_id: l.endpointId, lane: l.lane })));
    await this.svc.db.execute(
      sql`update ${schema.webhookLanes} l set owner = null, leased_until = 'epoch'
        from jsonb_to_recordset(${keys}::jsonb) as k(endpoint_id uuid, lane text)
        where l.endpoint_id = k.endpoint_id and l.lane = k.lane and l.owner = ${this.owner}`,
    );
    for (const l of going) {
      if (this.held.get(l.key) === l) this.held.delete(l.key);
      // Woken while it was being let go: claimed again.
      if (l.reading || l.dirty) this.toClaim.set(l.key, { appId: l.appId, endpointId: l.endpointId, lane: l.lane });
    }
    // After the release committed: a delivery whose claim failed while this node held its lane
    // committed before that claim, so it is seen here.
    const due = await rows<{ endpoint_id: string; lane: string }>(
      this.svc.db,
      sql`select k.endpoint_id, k.lane from jsonb_to_recordset(${keys}::jsonb) as k(endpoint_id uuid, lane text)
        where exists (select 1 from ${schema.webhookDeliveries} w where w.endpoint_id = k.endpoint_id
          and w.lane = k.lane and w.status = 'pending' and w.next_attempt_at <= now() + interval '2 seconds')`,
    );
    const byKey = new Map(going.map((l) => [l.key, l]));
    for (const d of due) {
      const l = byKey.get(laneKey({ endpointId: d.endpoint_id, lane: d.lane }));
      if (l && !this.held.has(l.key))
        this.toClaim.set(l.key, { appId: l.appId, endpointId: l.endpointId, lane: l.lane });
    }
  }

  /** Take the leases of woken lanes; those won are read in this round (added to `toRead`). */
  private async claim(toRead: Lane[]): Promise<void> {
    if (this.toClaim.size === 0) return;
    const wanted = [...this.toClaim.values()].filter((r) => !this.held.has(laneKey(r)));
    this.toClaim.clear();
    if (wanted.length === 0) return;
    const won = await rows<{ endpoint_id: string; lane: string }>(
      this.svc.db,
      sql`insert into ${schema.webhookLanes} (endpoint_id, lane, owner, leased_until)
        select k.endpoint_id, k.lane, ${this.owner}::uuid, now() + ${`${this.leaseSeconds} seconds`}::interval
        from jsonb_to_recordset(${JSON.stringify(wanted.map((r) => ({ endpoint_id: r.endpointId, lane: r.lane })))}::jsonb)
          as k(endpoint_id uuid, lane text)
        on conflict (endpoint_id, lane) do update set owner = excluded.owner, leased_until = excluded.leased_until
          where ${schema.webhookLanes.leasedUntil} < now() or ${schema.webhookLanes.owner} = excluded.owner
        returning endpoint_id, lane`,
    );
    const got = new Set(won.map((w) => laneKey({ endpointId: w.endpoint_id, lane: w.lane })));
    const lost: LaneRef[] = [];
    for (const r of wanted) {
      const key = laneKey(r);
      if (!got.has(key)) {
        lost.push(r);
        continue;
      }
      const lane: Lane = {
        ...r,
        key,
        rows: [],
        busy: false,
        reading: true,
        dirty: false,
        full: false,
        parked: null,
        idleSince: 0,
      };
      this.held.set(key, lane);
      toRead.push(lane);
    }
    // Another node holds them: it reads them again when it hears this.
    if (lost.length > 0) this.announce(lost, false);
  }

  private async readRows(toRead: readonly Lane[]): Promise<void> {
    const lanes = toRead.filter((l) => this.held.get(l.key) === l && l.reading);
    if (lanes.length === 0) return;
    // Rows held in memory stay bounded however many lanes are busy (bodies may be kilobytes).
    const page = Math.max(10, Math.min(PAGE, Math.floor(MAX_ROWS / Math.max(1, this.held.size))));
    const found = await rows<{
      n: string | number;
      app_id: string;
      id: string;
      endpoint_id: string;
      lane: string;
      event_type: string;
      body: string;
      attempts: number;
      next_attempt_at: Date | string;
      created_at: Date | string;
    }>(
      this.svc.db,
      sql`select d.n, d.app_id, d.id, d.endpoint_id, d.lane, d.event_type, d.body, d.attempts, d.next_attempt_at, d.created_at
        from jsonb_to_recordset(${JSON.stringify(lanes.map((l) => ({ endpoint_id: l.endpointId, lane: l.lane })))}::jsonb)
          as k(endpoint_id uuid, lane text)
        cross join lateral (
          select * from ${schema.webhookDeliveries} w
          where w.endpoint_id = k.endpoint_id and w.lane = k.lane and w.status = 'pending'
          order by w.n limit ${page}
        ) d`,
    );
    const byLane = new Map<string, Row[]>();
    for (const f of found) {
      const key = laneKey({ endpointId: f.endpoint_id, lane: f.lane });
      const list = byLane.get(key) ?? [];
      list.push({
        n: Number(f.n),
        appId: f.app_id,
        id: f.id,
        eventType: f.event_type,
        body: f.body,
        attempts: f.attempts,
        nextAttemptAt: new Date(f.next_attempt_at).getTime(),
        createdAt: new Date(f.created_at).getTime(),
      });
      byLane.set(key, list);
    }
    for (const lane of lanes) {
      lane.reading = false;
      // Rows of another app under this endpoint's id cannot be: an endpoint belongs to one app.
      lane.rows = (byLane.get(lane.key) ?? []).filter((r) => r.appId === lane.appId).sort((a, b) => a.n - b.n);
      lane.full = lane.rows.length >= page;
      if (lane.rows.length === 0) {
        if (lane.dirty) this.read(lane);
        else lane.idleSince = Date.now();
        continue;
      }
      this.run(lane);
    }
  }

  private run(lane: Lane): void {
    lane.busy = true;
    const p = this.send(lane)
      .catch((err) => this.svc.log.error({ err, webhook: lane.endpointId, lane: lane.lane }, 'webhooks: lane failed'))
      .finally(() => {
        this.runs.delete(p);
        lane.busy = false;
        if (this.stopped || this.held.get(lane.key) !== lane || lane.parked) return;
        if (lane.rows.length > 0 || lane.dirty || lane.full) this.read(lane);
        else lane.idleSince = Date.now();
      });
    this.runs.add(p);
  }

  /** Send a lane's rows in order, each after the previous one's answer. */
  private async send(lane: Lane): Promise<void> {
    while (lane.rows.length > 0 && !this.stopped) {
      const head = lane.rows[0] as Row;
      const settings = await this.hooks.get(lane.appId);
      const ep = settings.endpoints.find((e) => e.id === lane.endpointId);
      if (!ep?.active) {
        // Paused, disabled or deleted: its rows wait (or went with it); the lane is let go.
        lane.rows = [];
        lane.dirty = false;
        lane.full = false;
        this.toRelease.add(lane);
        return;
      }
      const wait = head.nextAttemptAt - Date.now();
      if (wait > SLEEP_MAX_MS || !this.leaseSafe()) {
        this.park(lane, this.leaseSafe() ? head.nextAttemptAt : Date.now() + 1_000);
        return;
      }
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.slot(lane.endpointId);
      if (this.stopped) {
        this.unslot(lane.endpointId);
        return;
      }
      let sent: Attempt;
      try {
        const headers = requestHeaders(ep, head, head.attempts + 1);
        sent = tracingOn()
          ? await outbound('webhook.deliver', headers, (h) => this.sender.post(ep.id, ep.url, h, head.body), {
              // The trace of the publish that made this event, when this node remembers it.
              parent: deliveryTrace(head) ?? null,
              failed: (r) => r.error,
              attributes: {
                'parley.event': head.eventType,
                'parley.delivery_id': head.id,
                'parley.attempt': head.attempts + 1,
              },
            })
          : await this.sender.post(ep.id, ep.url, headers, head.body);
      } finally {
        this.unslot(lane.endpointId);
      }
      head.attempts++;
      if (sent.error === null) {
        lane.rows.shift();
        this.m.outcomes.inc({ outcome: 'delivered' });
        this.m.lag.observe((Date.now() - head.createdAt) / 1000);
        this.note(head, sent, true, null);
        continue;
      }
      // A day of retries from the event, or from the endpoint's re-enabling if that is later (what
      // waited while it was inactive gets its own day).
      if (Date.now() - Math.max(head.createdAt, ep.resumedAt) >= this.svc.config.webhookMaxAgeMs) {
        this.m.outcomes.inc({ outcome: 'gave_up' });
        await this.giveUp(lane, head, sent);
        return;
      }
      this.m.outcomes.inc({ outcome: 'failed' });
      head.nextAttemptAt = Date.now() + backoffMs(this.svc.config.webhookRetryBaseMs, head.attempts);
      this.note(head, sent, false, new Date(head.nextAttemptAt).toISOString());
    }
  }

  /**
   * One request to `ep` now, outside its lanes and whether or not it is active (the test event,
   * actions.ts): signed and sent as a delivery is, on the endpoint's own connections.
   */
  post(ep: EndpointSettings, delivery: { id: string; eventType: string; body: string }): Promise<Attempt> {
    return this.sender.post(ep.id, ep.url, requestHeaders(ep, delivery, 1), delivery.body);
  }

  private note(head: Row, sent: Attempt, ok: boolean, next: string | null): void {
    this.outcomes.push({
      app_id: head.appId,
      id: head.id,
      attempts: head.attempts,
      status: sent.status,
      error: sent.error,
      latency: sent.latencyMs,
      ok,
      next,
    });
    this.schedule();
  }

  /** Hold the lane but drop its rows until `at`, then read it again. */
  private park(lane: Lane, at: number): void {
    lane.rows = [];
    lane.parked = setTimeout(
      () => {
        lane.parked = null;
        if (!this.stopped && this.held.get(lane.key) === lane) this.read(lane);
      },
      Math.max(0, at - Date.now()),
    );
    lane.parked.unref();
  }

  /**
   * Out of time: the endpoint is switched off until re-enabled. The delivery stays pending at the
   * head of its lane, with its attempts and last error, so re-enabling sends it first and its
   * channel's order holds; like everything an inactive endpoint holds, it is dropped (and
   * counted) once it is older than the retention.
   */
  private async giveUp(lane: Lane, head: Row, sent: Attempt): Promise<void> {
    const reason = `Delivery ${head.id} (${head.eventType}) still failing after ${head.attempts} attempts: ${sent.error}`;
    const w = schema.webhookDeliveries;
    const e = schema.webhookEndpoints;
    // This lane's earlier outcomes first, so the log reads in the order things happened.
    const earlier = this.outcomes;
    this.outcomes = [];
    await this.record(earlier).catch(() => {
      this.outcomes.unshift(...earlier);
    });
    await this.svc.db.transaction(async (tx) => {
      await tx.execute(
        sql`update ${w} set attempts = ${head.attempts}, response_status = ${sent.status},
          error = ${sent.error}, latency_ms = ${sent.latencyMs}, next_attempt_at = now()
          where app_id = ${head.appId} and id = ${head.id}`,
      );
      await tx.execute(
        sql`update ${e} set disabled_at = now(), disabled_reason = ${reason}, updated_at = now()
          where app_id = ${lane.appId} and id = ${lane.endpointId}`,
      );
    });
    this.hooks.changed(lane.appId);
    this.svc.log.warn({ app: lane.appId, webhook: lane.endpointId, reason }, 'webhook endpoint disabled');
    lane.rows = [];
    lane.dirty = false;
    lane.full = false;
    this.toRelease.add(lane);
  }

  /** Sends stop once the last renewal is 60 % of a lease old, well before another node could take the lanes. */
  private leaseSafe(): boolean {
    return Date.now() - this.renewedAt < this.leaseSeconds * 600;
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const at = Date.now();
    try {
      if (this.held.size > 0)
        await this.svc.db.execute(
          sql`update ${schema.webhookLanes} set leased_until = now() + ${`${this.leaseSeconds} seconds`}::interval
            where owner = ${this.owner}`,
        );
      this.renewedAt = at;
    } catch (err) {
      this.svc.log.warn({ err }, 'webhooks: lane leases not renewed');
    }
  }

  private letIdleGo(): void {
    const now = Date.now();
    for (const l of this.held.values())
      if (l.idleSince > 0 && now - l.idleSince >= IDLE_MS && !l.busy && !l.reading && !l.parked) {
        l.idleSince = 0;
        this.toRelease.add(l);
        void this.prune(l);
      }
    if (this.toRelease.size > 0) this.schedule();
  }

  /** An endpoint's finished deliveries older than KEEP_DAYS: at most once an hour per endpoint. */
  private async prune(l: LaneRef): Promise<void> {
    const last = this.pruned.get(l.endpointId) ?? 0;
    if (Date.now() - last < 3600_000) return;
    if (this.pruned.size > 10_000) this.pruned.clear();
    this.pruned.set(l.endpointId, Date.now());
    await this.svc.db
      .execute(
        sql`delete from ${schema.webhookDeliveries} where app_id = ${l.appId} and endpoint_id = ${l.endpointId}
          and status <> 'pending' and created_at < now() - ${`${KEEP_DAYS} days`}::interval`,
      )
      .catch((err) => this.svc.log.warn({ err }, 'webhooks: delivery log not pruned'));
  }

  /** Wait for a request slot: the endpoint under its share, the node under its total. */
  private slot(endpointId: string): Promise<void> {
    if (this.inFlight < MAX_IN_FLIGHT && (this.open.get(endpointId) ?? 0) < PER_ENDPOINT) {
      this.take(endpointId);
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ endpointId, go }));
  }

  private take(endpointId: string): void {
    this.inFlight++;
    this.open.set(endpointId, (this.open.get(endpointId) ?? 0) + 1);
  }

  private unslot(endpointId: string): void {
    this.inFlight--;
    const n = (this.open.get(endpointId) ?? 1) - 1;
    if (n > 0) this.open.set(endpointId, n);
    else this.open.delete(endpointId);
    // The first waiting lane whose endpoint is under its share goes next.
    for (let i = 0; i < this.waiting.length && this.inFlight < MAX_IN_FLIGHT; i++) {
      const w = this.waiting[i] as { endpointId: string; go: () => void };
      if ((this.open.get(w.endpointId) ?? 0) >= PER_ENDPOINT) continue;
      this.waiting.splice(i, 1);
      this.take(w.endpointId);
      w.go();
      return;
    }
  }

  /**
   * Lanes with due deliveries and no live lease (a crash, a lost wake): claimed by this node.
   * `graceSeconds`: how long a due delivery may wait for its wake before the sweep acts.
   */
  async sweep(graceSeconds: number): Promise<number> {
    if (!this.sends || this.stopped) return 0;
    const idle = await rows<{ app_id: string; endpoint_id: string; lane: string }>(
      this.svc.db,
      sql`select distinct d.app_id, d.endpoint_id, d.lane from ${schema.webhookDeliveries} d
        join ${schema.webhookEndpoints} e on e.app_id = d.app_id and e.id = d.endpoint_id and e.disabled_at is null
        where d.status = 'pending' and d.next_attempt_at <= now() - ${`${graceSeconds} seconds`}::interval
          and not exists (select 1 from ${schema.webhookLanes} l
            where l.endpoint_id = d.endpoint_id and l.lane = d.lane and l.leased_until > now())
        limit 10000`,
    );
    this.wake(idle.map((l) => ({ appId: l.app_id, endpointId: l.endpoint_id, lane: l.lane })));
    return idle.length;
  }

  /** Stop: no new sends; wait (up to `waitMs`) for those in flight, record them, let every lane go. */
  async stop(waitMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this.owner);
    // Wakes not yet announced go out now: a node that sends nothing loses none at its stop.
    this.announcePending();
    for (const t of this.timers) clearInterval(t);
    for (const l of this.held.values()) if (l.parked) clearTimeout(l.parked);
    // Lanes waiting for a slot wake, see the stop and end (their rows stay pending).
    for (const w of this.waiting.splice(0)) {
      this.take(w.endpointId);
      w.go();
    }
    await Promise.race([Promise.allSettled([...this.runs]), new Promise((r) => setTimeout(r, waitMs).unref())]);
    while (this.ticking) await new Promise((r) => setTimeout(r, 10));
    try {
      await this.record(this.outcomes);
      this.outcomes = [];
      if (this.held.size > 0)
        await this.svc.db.execute(
          sql`update ${schema.webhookLanes} set owner = null, leased_until = 'epoch' where owner = ${this.owner}`,
        );
    } catch (err) {
      this.svc.log.warn({ err }, 'webhooks: lanes not let go at stop (their leases lapse in a minute)');
    }
    this.held.clear();
    await this.sender.close();
  }
}

/**
 * Chat tokens of the web app's accounts end with the account session that minted them.
 *
 * A workspace session (`POST /v1/workspaces/{id}/session`) signs a user token with the claim
 * `psid` = the id of the account session (the cookie) it was asked with. Such a token is
 * accepted — at socket connect and on every REST call — only while that session is live
 * (not signed out, not expired, not idle too long) and the account is still an active
 * (not deactivated) member of the token's workspace, as that user. So signing out ends the tokens that session minted, signing out everywhere
 * ends them all, and leaving or losing a workspace ends its tokens, at once, on every node,
 * and the sockets opened with them are closed (4001: get a fresh token — which a signed-out
 * browser cannot).
 *
 * Tokens without `psid` (every token an embedder signs, and admin-minted ones) are not looked
 * up: they keep their stateless behaviour and live until their `exp`.
 *
 * Accepted checks are cached per node (one indexed query per live token per minute at most;
 * refusals are not cached: see `check`). A change is
 * published on the broker's `x:sessions` topic; every node — this one first, synchronously —
 * drops the cached answers and closes its sockets. The cache also expires on its own after
 * CACHE_MS, a bound on how long a node that missed a broker message (Redis restarting) could
 * go on accepting a dead token.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, gt, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { Infra } from '../../infra.js';
import { schema } from '../../platform/db/index.js';
import type { Broker, BusMessage } from '../../realtime/broker.js';
import type { Ending } from '../../realtime/ending.js';

/**
 * The conditions of a live account session at `now`: not signed out, not expired, and not
 * idle for `idleDays` or more (its `last_seen_at`, see sessions.ts).
 */
export function liveSession(now: number, idleDays: number) {
  const s = schema.accountSessions;
  return and(
    isNull(s.revokedAt),
    gt(s.expiresAt, new Date(now)),
    gt(s.lastSeenAt, new Date(now - idleDays * 86_400_000)),
  );
}

/** The broker topic that carries endings to every node. */
export const SESSIONS_TOPIC = 'x:sessions';
const CACHE_MS = 60_000;
const CACHE_MAX = 50_000;

/** What ended (realtime/ending.ts: the gateway closes the sockets concerned). */
export type { Ending };

interface Cached {
  ok: boolean;
  at: number;
}

export class ChatSessions {
  private readonly cache = new Map<string, Cached>();
  /** Bumped by every ending: a check that saw it change while it ran does not cache. */
  epoch = 0;
  /** Close this node's sockets for an ending (the gateway sets it). */
  onEnded: (ending: Ending) => void = () => {};
  /**
   * Tells this instance's own messages from others' when the broker hands them back. Random,
   * not the node id: ids repeat (`node-1` in every container), and a node that took another's
   * notice for its own would skip it.
   */
  private readonly origin = randomUUID();

  constructor(
    private readonly svc: () => Infra,
    private readonly broker: Broker,
  ) {
    broker.subscribe(SESSIONS_TOPIC);
  }

  /** Whether a `psid` token of `userId` in `appId` is still good. */
  async check(appId: string, userId: string, sessionId: string): Promise<boolean> {
    const key = `${appId}\n${userId}\n${sessionId}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.ok;
    const epoch = this.epoch;
    const { accountSessions: s, workspaceMembers: m, workspaces: w, accounts: a } = schema;
    const [row] = await this.svc()
      .db.select({ one: sql<number>`1` })
      .from(s)
      .innerJoin(
        m,
        and(eq(m.accountId, s.accountId), eq(m.appId, appId), eq(m.userId, userId), isNull(m.deactivatedAt)),
      )
      // A workspace that requires two-factor sign-in takes only accounts that have it.
      .innerJoin(w, eq(w.appId, m.appId))
      .innerJoin(a, eq(a.id, s.accountId))
      .where(
        and(
          eq(s.id, sessionId),
          liveSession(this.svc().clock(), this.svc().config.sessionIdleDays),
          or(eq(w.requireTwoFactor, false), isNotNull(a.twoFactorSecretSealed)),
        ),
      )
      .limit(1);
    const ok = row !== undefined;
    // Only "yes" is kept: a "no" can turn into a yes without any ending to clear it (a member
    // reactivated, or invited back, keeps its session id), and a refused token is not asked
    // about again and again by a well-behaved client anyway.
    if (ok && epoch === this.epoch) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, { ok, at: Date.now() });
    }
    return ok;
  }

  /** Announce an ending to every node, this one at once. Call after the change has committed. */
  end(ending: Ending): void {
    if ('sessions' in ending && ending.sessions.length === 0) return;
    this.apply(ending);
    const msg: BusMessage = {
      type: 'sessions.ended',
      frame: JSON.stringify({ ...ending, from: this.origin }),
    };
    this.broker.publish(SESSIONS_TOPIC, msg);
  }

  /** A broker message on SESSIONS_TOPIC (routed here by the hub). */
  receive(msg: BusMessage): void {
    let parsed: (Ending & { from?: string }) | null = null;
    try {
      parsed = JSON.parse(msg.frame) as Ending & { from?: string };
    } catch {
      return;
    }
    if (parsed.from === this.origin) return; // applied when it was sent
    if ('sessions' in parsed && Array.isArray(parsed.sessions))
      this.apply({ sessions: parsed.sessions.filter((x) => typeof x === 'string') });
    else if ('appId' in parsed && typeof parsed.appId === 'string' && typeof parsed.userId === 'string')
      this.apply({
        appId: parsed.appId,
        userId: parsed.userId,
        ...(parsed.user === true ? { user: true as const } : {}),
        ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}),
      });
  }

  private apply(ending: Ending): void {
    this.epoch++;
    if ('sessions' in ending) {
      const ended = new Set(ending.sessions);
      for (const key of this.cache.keys()) if (ended.has(key.slice(key.lastIndexOf('\n') + 1))) this.cache.delete(key);
    } else {
      const prefix = `${ending.appId}\n${ending.userId}\n`;
      for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
    }
    this.onEnded(ending);
  }
}

/**
 * Sign out sessions — one by id (of `accountId` when given), or every live one of an account
 * (but `except`) — and end their chat tokens. Returns the ids of the sessions it ended. Call
 * outside any transaction, or after it committed.
 */
export async function endSessions(
  svc: Pick<Infra, 'db'> & { chatSessions: ChatSessions },
  by: { sessionId: string; accountId?: string } | { accountId: string; except?: string },
): Promise<string[]> {
  const s = schema.accountSessions;
  const rows = await svc.db
    .update(s)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        'sessionId' in by ? eq(s.id, by.sessionId) : undefined,
        by.accountId !== undefined ? eq(s.accountId, by.accountId) : undefined,
        'except' in by && by.except ? ne(s.id, by.except) : undefined,
        isNull(s.revokedAt),
      ),
    )
    .returning({ id: s.id });
  const ended = rows.map((r) => r.id);
  svc.chatSessions.end({ sessions: ended });
  return ended;
}

/**
 * Typing indicators, per channel and per thread. A client sends `typing.start` as the user
 * types; repeats within the throttle window only keep the state alive, and the server sends
 * `typing.stop` itself when no refresh or stop arrives within the TTL (about 6 s).
 */
import type { User } from '@parley/protocol';
import type { Infra } from '../../infra.js';

const THROTTLE_MS = 2_000;

type TypingUser = User;

interface Entry {
  lastSent: number;
  timer: NodeJS.Timeout;
  appId: string;
  cid: string;
  parentId: string | null;
  user: TypingUser;
}

export class Typing {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly svc: () => Infra) {}

  start(appId: string, cid: string, parentId: string | null, user: TypingUser): void {
    const key = `${appId}|${cid}|${parentId ?? ''}|${user.id}`;
    const ttl = this.svc().config.typingTtlMs;
    const now = Date.now();
    const e = this.entries.get(key);
    if (e) {
      clearTimeout(e.timer);
      e.timer = setTimeout(() => this.stop(appId, cid, parentId, user), ttl);
      if (now - e.lastSent < THROTTLE_MS) return;
      e.lastSent = now;
    } else {
      const timer = setTimeout(() => this.stop(appId, cid, parentId, user), ttl);
      this.entries.set(key, { lastSent: now, timer, appId, cid, parentId, user });
    }
    this.emit('typing.start', appId, cid, parentId, user);
  }

  stop(appId: string, cid: string, parentId: string | null, user: TypingUser): void {
    const key = `${appId}|${cid}|${parentId ?? ''}|${user.id}`;
    const e = this.entries.get(key);
    if (!e) return;
    clearTimeout(e.timer);
    this.entries.delete(key);
    this.emit('typing.stop', appId, cid, parentId, user);
  }

  /** The user's last connection on this node closed: whatever they were typing stops now. */
  stopAll(appId: string, userId: string): void {
    for (const e of [...this.entries.values()])
      if (e.appId === appId && e.user.id === userId) this.stop(e.appId, e.cid, e.parentId, e.user);
  }

  /** A message sent ends its author's typing in that channel or thread. */
  sent(appId: string, cid: string, parentId: string | null, user: TypingUser): void {
    this.stop(appId, cid, parentId, user);
  }

  private emit(
    type: 'typing.start' | 'typing.stop',
    appId: string,
    cid: string,
    parentId: string | null,
    user: TypingUser,
  ): void {
    this.svc().bus.publish([
      {
        to: 'channel',
        appId,
        cid,
        event: { type, cid, parent_id: parentId, user, created_at: new Date().toISOString() },
      },
    ]);
  }

  close(): void {
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }
}

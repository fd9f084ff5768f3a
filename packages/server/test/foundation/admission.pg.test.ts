/**
 * Admission control: beyond `maxOpeningSockets` sockets between upgrade and hello, a new
 * socket is closed at once with OVERLOADED (4006, a reconnect code) and a retry hint in its
 * reason; a slot that frees (hello sent, or the socket closed) admits the next one.
 */
import { CLOSE_CODES, retryAfterMs, shouldReconnect } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, QUIET, startHarness, type TestApp, TestSocket } from '../harness.js';

let h: Harness;
let app: TestApp;
let url: string;

beforeAll(async () => {
  h = await startHarness({ ...QUIET, maxOpeningSockets: 2 });
  app = await h.createApp();
  url = await h.listen();
});
afterAll(async () => {
  await h.close();
});

describe('admission control', () => {
  it('refuses sockets beyond the bound with 4006 and a retry hint, and admits again once a slot frees', async () => {
    // Two sockets that opened but have not authenticated hold both slots.
    const [a, b] = [await TestSocket.open(url, app.apiKey), await TestSocket.open(url, app.apiKey)];
    const refused = await Promise.all([1, 2, 3].map(() => TestSocket.open(url, app.apiKey)));
    for (const r of refused) {
      const closed = await r.waitClose();
      expect(closed.code).toBe(CLOSE_CODES.OVERLOADED);
      expect(shouldReconnect(closed.code)).toBe(true);
      const hint = retryAfterMs(closed.reason);
      expect(hint, closed.reason).not.toBeNull();
      expect(hint).toBeGreaterThanOrEqual(100);
      expect(hint).toBeLessThanOrEqual(30_000);
      expect(r.frames).toEqual([]);
    }
    // An admitted socket authenticates as usual; its slot frees with hello.
    a.sendRaw(JSON.stringify({ type: 'auth', token: await app.token('u1') }));
    expect((await a.waitFor((f) => f.type === 'hello')).user.id).toBe('u1');
    const c = await TestSocket.connect(url, app, 'u2');
    expect(c.closed).toBeNull();
    // A socket that closes before auth frees its slot too.
    b.close();
    await b.waitClose();
    const held = await TestSocket.open(url, app.apiKey); // takes the slot b left
    const d = await TestSocket.connect(url, app, 'u3');
    expect(d.closed).toBeNull();
    // Both slots taken again (held, and one more opening): the next is refused.
    const e = await TestSocket.open(url, app.apiKey);
    const f = await TestSocket.open(url, app.apiKey);
    expect((await f.waitClose()).code).toBe(CLOSE_CODES.OVERLOADED);
    for (const s of [a, c, d, held, e]) s.close();
    await eventually(() => [a, c, d, held, e].every((s) => s.closed !== null));
  });

  it('a refused socket costs no auth check and no query', async () => {
    const [a, b] = [await TestSocket.open(url, app.apiKey), await TestSocket.open(url, app.apiKey)];
    // The first test's users go offline `presenceGraceMs` after their sockets closed, and that
    // is stored with queries: count from a moment no query is on its way. A background job's
    // poll can still land in the window (CI saw one): such noise only adds, so the fewest of
    // three refusals is the refusal's own cost.
    await quiet(h.config.presenceGraceMs + 100);
    let fewest = Number.POSITIVE_INFINITY;
    for (let run = 0; run < 3 && fewest > 0; run++) {
      const token = await app.token('u4');
      const before = h.database.queryCount();
      const r = await TestSocket.open(url, app.apiKey);
      r.sendRaw(JSON.stringify({ type: 'auth', token }));
      expect((await r.waitClose()).code).toBe(CLOSE_CODES.OVERLOADED);
      fewest = Math.min(fewest, h.database.queryCount() - before);
    }
    expect(fewest).toBe(0);
    for (const s of [a, b]) s.close();
    await eventually(() => a.closed !== null && b.closed !== null);
  });
});

/** Resolves once the server ran no query for `ms` in a row. */
async function quiet(ms: number): Promise<void> {
  for (let last = h.database.queryCount(); ; ) {
    await new Promise((r) => setTimeout(r, ms));
    const now = h.database.queryCount();
    if (now === last) return;
    last = now;
  }
}

describe('retry hints', () => {
  it('reads retry_after_ms=N from a close reason, and nothing from others', () => {
    expect(retryAfterMs('retry_after_ms=250')).toBe(250);
    expect(retryAfterMs('overloaded; retry_after_ms=1200')).toBe(1200);
    expect(retryAfterMs('retry_after_ms=')).toBeNull();
    expect(retryAfterMs('retry_after_ms=-5')).toBeNull();
    expect(retryAfterMs('retry_after_ms=12345678')).toBeNull();
    expect(retryAfterMs('server shutting down')).toBeNull();
    expect(retryAfterMs('')).toBeNull();
  });
});

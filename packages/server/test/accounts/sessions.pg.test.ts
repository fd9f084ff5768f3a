/**
 * The sessions of an account, through the public API on a real database: the list (browser,
 * system and device from the user agent, IP, created, last active), last activity written at
 * most once a minute, signing out one session (its sockets close at once) or every other one,
 * and the end of a session left idle. Time comes from an injected clock the tests move.
 */
import { CLOSE_CODES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TestSocket } from '../harness.js';
import {
  type Browser,
  browser,
  buildAccount,
  buildWorkspace,
  chatHeaders,
  cookiePair,
  expectError,
  ok,
  PASSWORD,
  send,
  setCookie,
} from './helpers.js';

const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:140.0) Gecko/20100101 Firefox/140.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

let now = Date.now();
const clock = () => now;
const DAY = 86_400_000;

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness({ sessionIdleDays: 14 }, { clock });
  url = await h.listen();
});
afterAll(async () => {
  await h?.close();
});

/** Sign in as `who` from another browser (`ua`, `ip`): a second session. */
async function signInFrom(who: Browser, ua: string, ip = '127.0.0.1'): Promise<Browser> {
  const r = await send(h, {
    method: 'POST',
    url: '/v1/auth/signin',
    payload: { email: who.account.email, password: PASSWORD },
    headers: { 'user-agent': ua },
    remoteAddress: ip,
  });
  ok(r);
  return Object.assign(browser(h, cookiePair(setCookie(r))), { account: who.account });
}

const list = async (who: Browser) => ok(await who.get('/v1/auth/sessions'));

/** A chat socket of `who` in workspace `id`, open after hello. */
async function chatSocket(who: Browser, id: string): Promise<TestSocket> {
  const s = ok(await who.session(id));
  const sock = await TestSocket.open(url, s.api_key);
  sock.sendRaw(JSON.stringify({ type: 'auth', token: s.token }));
  await sock.waitFor((f) => f.type === 'hello');
  return sock;
}

describe('the list', () => {
  it('names browser, system, device and IP of each live session, the current one marked', async () => {
    const ada = await buildAccount(h, 'Ada');
    const mac = await signInFrom(ada, FIREFOX_MAC, '203.0.113.7');
    const phone = await signInFrom(ada, SAFARI_IPHONE, '198.51.100.2');
    ok(await phone.signOut()); // signed out: not listed
    const { sessions, idle_days } = await list(mac);
    expect(idle_days).toBe(14);
    expect(sessions).toHaveLength(2);
    const here = sessions.find((s: any) => s.current);
    expect(here).toMatchObject({
      browser: 'Firefox 140',
      os: 'macOS Catalina',
      device: 'desktop',
      ip: '203.0.113.7',
      created_at: new Date(now).toISOString(),
      last_seen_at: new Date(now).toISOString(),
    });
    expect(sessions.filter((s: any) => s.current)).toHaveLength(1);
    // Nobody else's sessions: Bo sees only his own.
    const bo = await buildAccount(h, 'Bo');
    const theirs = (await list(bo)).sessions;
    expect(theirs).toHaveLength(1);
    expect(theirs[0].id).not.toBe(here.id);
  });

  it('names a phone as mobile, and an unknown agent as unknown', async () => {
    const cy = await buildAccount(h, 'Cy');
    await signInFrom(cy, SAFARI_IPHONE);
    await signInFrom(cy, '\u00a0weird agent');
    const { sessions } = await list(cy);
    expect(sessions.find((s: any) => s.device === 'mobile')).toMatchObject({ browser: 'Safari 18.1', os: 'iOS 18.1' });
    expect(sessions.find((s: any) => s.browser === null && s.os === null)?.device).toBe('unknown');
  });

  it('keeps last activity to the minute: one write per session per minute at most', async () => {
    const di = await buildAccount(h, 'Di');
    const started = now;
    const at = async () => (await list(di)).sessions.find((s: any) => s.current).last_seen_at;
    now += 30_000;
    expect(await at()).toBe(new Date(started).toISOString()); // 30 s later: not written
    now += 31_000;
    await di.me(); // the first request a minute later writes it
    expect(await at()).toBe(new Date(now).toISOString());
    const written = now;
    now += 59_000;
    await di.me();
    expect(await at()).toBe(new Date(written).toISOString());
  });
});

describe('signing out sessions', () => {
  it('signs out one session: its cookie and its sockets end at once; the others stay', async () => {
    const ed = await buildAccount(h, 'Ed');
    const ws = await buildWorkspace(ed, 'Ed & co');
    const laptop = await signInFrom(ed, FIREFOX_MAC);
    const sock = await chatSocket(laptop, ws.id);
    const mine = await chatSocket(ed, ws.id);
    const target = (await list(ed)).sessions.find((s: any) => !s.current);
    ok(await ed.del(`/v1/auth/sessions/${target.id}`));
    expect((await sock.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await laptop.me(), 'UNAUTHORIZED');
    ok(await ed.me());
    expect(mine.closed).toBeNull();
    // Gone from the list; a second sign-out of it is NOT_FOUND.
    expect((await list(ed)).sessions.map((s: any) => s.id)).not.toContain(target.id);
    expectError(await ed.del(`/v1/auth/sessions/${target.id}`), 'NOT_FOUND');
    mine.close();
  });

  it("cannot sign out another account's session: NOT_FOUND, and it stays", async () => {
    const flo = await buildAccount(h, 'Flo');
    const gil = await buildAccount(h, 'Gil');
    const gils = (await list(gil)).sessions[0];
    expectError(await flo.del(`/v1/auth/sessions/${gils.id}`), 'NOT_FOUND');
    ok(await gil.me());
    expectError(await flo.del('/v1/auth/sessions/not-a-uuid'), 'VALIDATION_ERROR');
    expectError(await browser(h, null).del(`/v1/auth/sessions/${gils.id}`), 'UNAUTHORIZED');
  });

  it('signing out the current session clears its cookie', async () => {
    const hal = await buildAccount(h, 'Hal');
    const me = (await list(hal)).sessions[0];
    const r = await hal.del(`/v1/auth/sessions/${me.id}`);
    ok(r);
    expect(String(setCookie(r))).toMatch(/parley_session=;.*Max-Age=0/);
    expectError(await hal.me(), 'UNAUTHORIZED');
  });

  it('signs out every other session, and this one stays', async () => {
    const ivy = await buildAccount(h, 'Ivy');
    const ws = await buildWorkspace(ivy, 'Ivy league');
    const a = await signInFrom(ivy, FIREFOX_MAC);
    const b = await signInFrom(ivy, SAFARI_IPHONE);
    const sock = await chatSocket(b, ws.id);
    ok(await ivy.post('/v1/auth/signout-others', {}));
    expect((await sock.waitClose()).code).toBe(CLOSE_CODES.UNAUTHORIZED);
    expectError(await a.me(), 'UNAUTHORIZED');
    expectError(await b.me(), 'UNAUTHORIZED');
    ok(await ivy.me());
    expect((await list(ivy)).sessions).toHaveLength(1);
  });
});

describe('idle sessions', () => {
  it('end after the idle days without a request, their chat tokens with them; use keeps one alive', async () => {
    const jo = await buildAccount(h, 'Jo');
    const ws = await buildWorkspace(jo, 'Jo works');
    const busy = await signInFrom(jo, FIREFOX_MAC);
    // A chat token of the session that will idle, not used yet (so no node has a cached answer).
    const token = ok(await jo.session(ws.id));
    for (let day = 0; day < 15; day++) {
      now += DAY;
      ok(await busy.me()); // used every day
    }
    expectError(await jo.me(), 'UNAUTHORIZED');
    const chat = await h.call({ method: 'GET', url: '/v1/me', headers: chatHeaders(token) });
    expectError(chat, 'UNAUTHORIZED');
    ok(await busy.me());
    expect((await list(busy)).sessions).toHaveLength(1);
  });
});

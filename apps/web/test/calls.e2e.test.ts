/**
 * Calls in the web app, in real Chromium on fake media (`--use-fake-device-for-media-stream
 * --use-fake-ui-for-media-stream`), two browser contexts against a real server: Ada calls Bob
 * from their DM, Bob's toast rings, he accepts, both see a connected call and `getStats()` shows
 * audio and video bytes received on both sides; Ada shares her screen in place of her camera
 * (Bob keeps receiving video) and stops; Ada hangs up and it ends for both, with a
 * "Call ended" message and the call in Bob's history. Then a call Bob does not answer is missed
 * after the (short, for the test) ring time. Last, a group call of three in #general: a mesh in
 * which each receives audio from both others; it goes on when one leaves and ends with the next.
 *
 * Logs the time from accept to the first media bytes on Bob's side (docs/calls.md numbers).
 * Needs Debian's chromium at /usr/bin/chromium; skipped without it unless PARLEY_REQUIRE_BROWSER=1.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../packages/server/src/platform/config.js';
import { type Harness, startHarness } from '../../../packages/server/test/harness.js';
import {
  buildWebApp,
  createWorkspace,
  FAKE_MEDIA,
  haveBrowser,
  inviteLink,
  joinByInvite,
  launchChromium,
  signUp,
} from './browser.js';

const WAIT = { timeout: 30_000 };
const RING_MS = 6_000;

let h: Harness;
let base: string;
let browser: Browser;
let ada: { page: Page; errors: string[] };
let bob: { page: Page; errors: string[] };
let dm = '';

/**
 * Test instrumentation only: every RTCPeerConnection the page makes is kept in
 * `window.__pcs`, so the test can read `getStats()` as the app's own Call does.
 */
const RECORD_PEER_CONNECTIONS = `
  (() => {
    const Native = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
      const pc = new Native(...args);
      window.__pcs.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = Native.prototype;
    Object.setPrototypeOf(window.RTCPeerConnection, Native);
  })();
`;

/** Inbound RTP bytes by kind over the page's open peer connections. */
function inboundBytes(page: Page): Promise<{ audio: number; video: number }> {
  return page.evaluate(async () => {
    const w = window as unknown as { __pcs: RTCPeerConnection[] };
    const out = { audio: 0, video: 0 };
    for (const pc of w.__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.kind === 'video')) out[s.kind] += s.bytesReceived ?? 0;
      });
    }
    return out;
  });
}

async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 860 } });
  await context.addInitScript(RECORD_PEER_CONNECTIONS);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

describe.skipIf(!haveBrowser)('calls in the web app', () => {
  beforeAll(async () => {
    h = await startHarness({
      webDir: await buildWebApp(),
      jobPollMs: 200,
      calls: { ...defaultConfig().calls, ringTimeoutMs: RING_MS },
    });
    base = await h.listen();
    browser = await launchChromium([
      ...FAKE_MEDIA,
      '--autoplay-policy=no-user-gesture-required',
      // Host candidates with real addresses (not mDNS names) between the two contexts.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('Ada calls Bob, Bob accepts, media flows both ways; hang-up ends it for both', async () => {
    ada = await newPage();
    bob = await newPage();
    const a = ada.page;
    const b = bob.page;
    await createWorkspace(a, 'Ada Lovelace', 'ada@example.com', 'Acme');
    await joinByInvite(b, await inviteLink(a), 'Bob Builder', 'bob@example.com');

    // Ada opens a DM with Bob and starts a video call from its header.
    await a.getByRole('button', { name: 'New message' }).first().click();
    await a.getByLabel('To:').pressSequentially('Bo');
    await a.getByRole('option', { name: /Bob Builder/ }).click();
    await a.getByRole('button', { name: 'Start conversation' }).click();
    await a.waitForURL(/c\/dm:/);
    dm = decodeURIComponent(new URL(a.url()).pathname.split('/c/')[1] as string);
    await a.getByTestId('call-video').click();
    await expect.poll(() => a.getByTestId('call-view').getAttribute('data-phase'), WAIT).toBe('outgoing');

    // Bob, in #general, is rung: the toast, with accept.
    const toast = b.getByTestId('incoming-call');
    await toast.waitFor(WAIT);
    await expect.poll(() => toast.textContent(), WAIT).toMatch(/Ada Lovelace.*Incoming video call/);
    await b.screenshot({ path: path.join(tmpdir(), 'parley-calls-e2e-ringing-bob.png') });
    const acceptedAt = Date.now();
    await b.getByTestId('call-accept').click();
    // Accept to the first media bytes on Bob's side, polled every 50 ms.
    const firstMediaMs = await b.evaluate(async (started) => {
      const w = window as unknown as { __pcs: RTCPeerConnection[] };
      for (;;) {
        for (const pc of w.__pcs) {
          const stats = await pc.getStats();
          let bytes = 0;
          stats.forEach((s: { type: string; bytesReceived?: number }) => {
            if (s.type === 'inbound-rtp') bytes += s.bytesReceived ?? 0;
          });
          if (bytes > 0) return Date.now() - started;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }, acceptedAt);
    console.log(`[calls e2e] accept → first media bytes (Bob): ${firstMediaMs} ms`);

    for (const page of [a, b]) {
      await expect.poll(() => page.getByTestId('call-view').getAttribute('data-phase'), WAIT).toBe('connected');
      await expect.poll(() => page.getByTestId('call-tile').count(), WAIT).toBe(1);
    }
    // Audio and video bytes arrive on both sides, and keep arriving.
    for (const page of [a, b]) {
      await expect.poll(async () => (await inboundBytes(page)).audio, WAIT).toBeGreaterThan(0);
      await expect.poll(async () => (await inboundBytes(page)).video, WAIT).toBeGreaterThan(0);
      const before = await inboundBytes(page);
      await expect.poll(async () => (await inboundBytes(page)).video, WAIT).toBeGreaterThan(before.video);
    }
    // The remote tile shows video (the fake camera's frames), and the timer runs.
    await expect
      .poll(
        () =>
          a
            .getByTestId('call-tile')
            .locator('video')
            .evaluate((v) => (v as HTMLVideoElement).videoWidth),
        WAIT,
      )
      .toBeGreaterThan(0);
    await expect.poll(() => a.getByTestId('call-timer').textContent(), WAIT).toMatch(/^0:0[1-9]|^0:[1-5]\d/);
    // Mute shows on the own tile.
    await a.getByTestId('call-mute').click();
    await expect.poll(() => a.getByTestId('call-tile-self').textContent(), WAIT).toMatch(/muted/);
    await a.getByTestId('call-mute').click();

    // Screen share replaces the camera for the peer without renegotiating: Bob keeps receiving video.
    const senderLabel = () =>
      a.evaluate(() => {
        const w = window as unknown as { __pcs: RTCPeerConnection[] };
        const pc = w.__pcs.find((p) => p.connectionState !== 'closed');
        return pc?.getSenders().find((s) => s.track?.kind === 'video')?.track?.label ?? '';
      });
    const camera = await senderLabel();
    await a.getByTestId('call-screen').click();
    await expect.poll(() => a.getByTestId('call-screen').textContent(), WAIT).toBe('Stop sharing');
    await expect.poll(senderLabel, WAIT).not.toBe(camera);
    const bobVideo = (await inboundBytes(b)).video;
    await expect.poll(async () => (await inboundBytes(b)).video, WAIT).toBeGreaterThan(bobVideo);
    await a.getByTestId('call-screen').click();
    await expect.poll(() => a.getByTestId('call-screen').textContent(), WAIT).toBe('Share screen');
    await expect.poll(senderLabel, WAIT).toBe(camera);

    const shots = path.join(tmpdir(), 'parley-calls-e2e');
    mkdirSync(shots, { recursive: true });
    await a.screenshot({ path: path.join(shots, 'call-view-ada.png') });
    await b.screenshot({ path: path.join(shots, 'call-view-bob.png') });

    // Ada hangs up: over for both; the DM says so.
    await a.getByTestId('call-hangup').click();
    for (const page of [a, b]) await expect.poll(() => page.getByTestId('call-view').count(), WAIT).toBe(0);
    await a
      .locator('.parley-message--system', { hasText: /Call ended · \d+ s/ })
      .first()
      .waitFor(WAIT);
    // The peer connections are closed: no media flows any more.
    await expect
      .poll(
        () =>
          b.evaluate(() =>
            (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.every((pc) => pc.connectionState === 'closed'),
          ),
        WAIT,
      )
      .toBe(true);

    // Bob's call history has it.
    await b.getByTestId('calls-history-button').click();
    const row = b.getByTestId('call-history-row').first();
    await row.waitFor(WAIT);
    expect(await row.getAttribute('data-state')).toBe('ended');
    await expect.poll(() => row.textContent(), WAIT).toMatch(/Ada Lovelace.*Call · video · 0:\d\d/);
    await b.keyboard.press('Escape');
    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 180_000);

  it('a call Bob does not answer is missed after the ring time, on both sides and in history', async () => {
    const a = ada.page;
    const b = bob.page;
    await a.getByTestId('call-audio').click();
    const toast = b.getByTestId('incoming-call');
    await toast.waitFor(WAIT);
    await expect.poll(() => toast.textContent(), WAIT).toMatch(/Incoming call/);
    // Nobody answers: the ring stops by itself, Ada's call ends.
    await expect.poll(() => b.getByTestId('incoming-call').count(), { timeout: RING_MS + 30_000 }).toBe(0);
    await expect.poll(() => a.getByTestId('call-view').count(), WAIT).toBe(0);
    await a.locator('.parley-message--system', { hasText: 'Missed call' }).first().waitFor(WAIT);
    await b.getByTestId('calls-history-button').click();
    const row = b.getByTestId('call-history-row').first();
    await expect.poll(() => row.getAttribute('data-state'), WAIT).toBe('missed');
    await expect.poll(() => row.textContent(), WAIT).toMatch(/Ada Lovelace.*Missed call/);
    expect(dm).toMatch(/^dm:/);
    await b.keyboard.press('Escape');
    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 120_000);

  it('a group call in #general: Ada, Bob and Carol talk in a mesh, each receiving from both others', async () => {
    const a = ada.page;
    const b = bob.page;
    const carol = await newPage();
    const c = carol.page;
    await a.getByRole('button', { name: 'Invite people' }).click();
    const link = a.getByTestId('invite-link');
    await expect.poll(() => link.inputValue(), WAIT).toMatch(/\/invite\/.+/);
    const inviteUrl = await link.inputValue();
    await a.getByRole('button', { name: 'Done' }).click();
    await c.goto(inviteUrl);
    await signUp(c, 'Carol Danvers', 'carol@example.com');
    await c.getByRole('button', { name: 'Create account and join' }).click();
    await c.waitForURL(/\/c\/public:general$/);

    await a.locator('.parley-channel-row[data-cid="public:general"]').click();
    await a.waitForURL(/\/c\/public:general$/);
    await a.getByTestId('call-audio').click();
    for (const page of [b, c]) {
      await page.getByTestId('incoming-call').waitFor(WAIT);
      await page.getByTestId('call-accept').click();
    }
    for (const page of [a, b, c]) {
      await expect.poll(() => page.getByTestId('call-view').getAttribute('data-phase'), WAIT).toBe('connected');
      await expect.poll(() => page.getByTestId('call-tile').count(), WAIT).toBe(2);
      // Two peer connections, each receiving audio.
      await expect
        .poll(
          () =>
            page.evaluate(async () => {
              const w = window as unknown as { __pcs: RTCPeerConnection[] };
              let receiving = 0;
              for (const pc of w.__pcs) {
                if (pc.connectionState !== 'connected') continue;
                let audio = 0;
                (await pc.getStats()).forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
                  if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.bytesReceived ?? 0;
                });
                if (audio > 0) receiving++;
              }
              return receiving;
            }),
          WAIT,
        )
        .toBe(2);
    }
    // Carol hangs up: Ada and Bob go on; then Bob leaves and it ends.
    await c.getByTestId('call-hangup').click();
    for (const page of [a, b]) await expect.poll(() => page.getByTestId('call-tile').count(), WAIT).toBe(1);
    await expect.poll(() => a.getByTestId('call-view').getAttribute('data-phase'), WAIT).toBe('connected');
    await b.getByTestId('call-hangup').click();
    for (const page of [a, b, c]) await expect.poll(() => page.getByTestId('call-view').count(), WAIT).toBe(0);
    await a
      .locator('.parley-message--system', { hasText: /Call ended · \d+ s/ })
      .first()
      .waitFor(WAIT);
    expect(carol.errors).toEqual([]);
  }, 180_000);
});

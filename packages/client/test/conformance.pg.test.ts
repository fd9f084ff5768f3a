/**
 * The conformance kit (@parley/conformance, packages/conformance/) against a real server, through
 * the runner its commands use (packages/conformance/src/run.ts): every wire scenario over a
 * bare WebSocket, every SDK scenario through the reference adapter (conformance-adapter.ts,
 * driving @parley/client in a child process). And the runner catches a broken SDK: the same
 * adapter made to drop its outbox, skip a gap or ack before storing fails, naming that rule.
 */
import { loadScenarios, runSdk, runWire, type Target } from '@parley/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceAdapter } from '../../server/test/child-command.js';
import { ADMIN } from '../../server/test/harness.js';
import { type Harness, startHarness } from './setup.js';

const ADAPTER = referenceAdapter();
const broken = (how: string) => `PARLEY_ADAPTER_BREAK=${how} ${ADAPTER}`;

let h: Harness;
let target: Target;
beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100 });
  target = { url: await h.listen(), adminToken: ADMIN };
});
afterAll(() => h?.close());

const scenario = (name: string) => {
  const s = loadScenarios('sdk').find((x) => x.name === name);
  if (!s) throw new Error(`no SDK scenario ${name}`);
  return s;
};

describe('conformance kit: wire scenarios, over a bare WebSocket', () => {
  for (const s of loadScenarios('wire'))
    it(`${s.name}: ${s.description}`, async () => {
      expect(await runWire(s, target)).toMatchObject({ ok: true });
    }, 60_000);
});

describe('conformance kit: SDK scenarios, through @parley/client (the reference adapter)', () => {
  for (const s of loadScenarios('sdk'))
    it(`${s.name}: ${s.description}`, async () => {
      const o = await runSdk(s, target, ADAPTER);
      expect(o.failure, JSON.stringify(o.failure)).toBeUndefined();
    }, 90_000);
});

describe('the runner catches a broken SDK, naming the rule it breaks', () => {
  it('an SDK that drops what it sent offline breaks outbox-delivers', async () => {
    const o = await runSdk(scenario('reconnect during a send storm'), { ...target, waitMs: 3_000 }, broken('outbox'));
    expect(o.ok).toBe(false);
    expect(o.failure).toMatchObject({ rule: 'outbox-delivers' });
    expect(o.failure?.message).toMatch(/40 of the 45 messages/);
  }, 90_000);

  it('an SDK that does not fetch what it missed while cut off breaks gap-filled', async () => {
    const o = await runSdk(scenario('reconnect during a send storm'), { ...target, waitMs: 3_000 }, broken('gap'));
    expect(o.ok).toBe(false);
    expect(o.failure).toMatchObject({ rule: 'gap-filled' });
  }, 90_000);

  it('an SDK that answers a send before the server stored it breaks refused-send-fails-typed', async () => {
    const o = await runSdk(
      scenario('errors reach the caller typed'),
      { ...target, waitMs: 3_000 },
      broken('early-ack'),
    );
    expect(o.ok).toBe(false);
    expect(o.failure).toMatchObject({ rule: 'refused-send-fails-typed', step: 2 });
  }, 90_000);
});

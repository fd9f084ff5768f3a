/**
 * `parley-conformance` (`npx @parley/conformance`) as an SDK author runs it: the package's bin in
 * a child process against a real server (in this process, its admin token in
 * PARLEY_ADMIN_TOKEN). The wire scenarios alone, an SDK scenario through the reference adapter
 * (@parley/client's) and through the same adapter made to ack before storing, whose failure names
 * the rule; and a wrong command line in one line. `parley conformance` of @parley/cli is the same
 * command (packages/cli/test/conformance.test.ts).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeArgs, referenceAdapter } from '../../server/test/child-command.js';
import { ADMIN, type Harness, startHarness } from '../../server/test/harness.js';

const BIN = path.join(import.meta.dirname, '../bin/parley-conformance.mjs');
const ADAPTER = referenceAdapter();

let h: Harness;
let url = '';
beforeAll(async () => {
  h = await startHarness({ jobPollMs: 100 });
  url = await h.listen();
}, 60_000);
afterAll(() => h?.close());

/** The bin, as `node bin/parley-conformance.mjs ARGS` runs it (its build when current, else its sources). */
function bin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [...nodeArgs(BIN, ['conformance', 'node', 'protocol']), ...args], {
    env: { ...process.env, PARLEY_ADMIN_TOKEN: ADMIN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('parley-conformance', () => {
  it('runs the wire scenarios and says the SDK ones need an adapter', async () => {
    const r = await bin(['--url', url]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['handshake', 'duplicates', 'errors', 'gaps filled from the event log', 'resume after a cut'])
      expect(r.out).toMatch(new RegExp(`^✓ wire ${name} \\(\\d+ ms\\)$`, 'm'));
    expect(r.out).toMatch(/^5 of 5 scenarios passed \(wire only: --adapter runs the SDK ones\)$/m);
  }, 120_000);

  it('runs an SDK scenario through the reference adapter, and fails naming the rule a broken SDK breaks', async () => {
    const args = ['--url', url, '--adapter', ADAPTER, '--scenario', 'errors reach the caller typed', '--json'];
    const good = await bin(args);
    expect(good.code, good.err).toBe(0);
    expect(JSON.parse(good.out.trim())).toMatchObject({
      kind: 'sdk',
      scenario: 'errors reach the caller typed',
      ok: true,
    });

    const broken = await bin(args, { PARLEY_ADAPTER_BREAK: 'early-ack' });
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out.trim())).toMatchObject({
      ok: false,
      failure: { step: 2, rule: 'refused-send-fails-typed' },
    });
  }, 180_000);

  it('refuses a wrong command line, an unknown scenario and a server that does not answer, in one line', async () => {
    const cases: [string[], NodeJS.ProcessEnv, number, RegExp][] = [
      [[], {}, 2, /^parley-conformance: parley-conformance: --url URL is required$/],
      [['--url', 'ftp://x'], {}, 2, /must be http:\/\/ or https:\/\//],
      [['--url', url, '--bogus'], {}, 2, /Unknown option '--bogus' \(parley-conformance --help lists the options\)$/],
      [['--url', url, '--scenario', 'nope'], {}, 2, /no scenario named 'nope'/],
      [
        ['--url', url, '--data', path.join(import.meta.dirname, 'nowhere')],
        { PARLEY_ADMIN_TOKEN: '' },
        1,
        /no admin token/,
      ],
      [['--url', 'http://127.0.0.1:9'], {}, 1, /^parley-conformance: nothing answers at http:\/\/127\.0\.0\.1:9/],
    ];
    for (const [args, env, code, message] of cases) {
      const r = await bin(args, env);
      expect([r.code, r.err.trim()], args.join(' ')).toEqual([code, expect.stringMatching(message)]);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    const help = await bin(['--help']);
    expect([help.code, help.out]).toEqual([0, expect.stringMatching(/^parley-conformance --url URL/)]);
  }, 120_000);
});

/**
 * `parley conformance` as an SDK author runs it: against a `parley start` on a free port, with
 * the admin token from the server's data folder. The wire scenarios alone, then the SDK ones
 * through the reference adapter (packages/client/test/conformance-adapter.ts) and through the
 * same adapter made to drop its outbox, whose failure names the rule; and the mistakes a user
 * makes on the command line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceAdapter } from '../../server/test/child-command.js';
import { cleanUp, freePort, type Proc, run, SLOW, startServer, stop, tempDir } from './spawn.js';

const ADAPTER = referenceAdapter();

let server: Proc;
let url = '';
let data = '';
beforeAll(async () => {
  data = tempDir();
  const port = await freePort();
  server = await startServer(port, data);
  url = `http://127.0.0.1:${port}`;
}, SLOW);
afterAll(async () => {
  if (server) await stop(server);
  await cleanUp();
});

describe('parley conformance', () => {
  it('runs the wire scenarios against a server and says the SDK ones need an adapter', async () => {
    const r = await run(['conformance', '--url', url, '--data', data], {}, 120_000);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['handshake', 'duplicates', 'errors', 'gaps filled from the event log', 'resume after a cut'])
      expect(r.out).toMatch(new RegExp(`^✓ wire ${name} \\(\\d+ ms\\)$`, 'm'));
    expect(r.out).toMatch(/^5 of 5 scenarios passed \(wire only: --adapter runs the SDK ones\)$/m);
  }, 180_000);

  it('runs the SDK scenarios through the reference adapter, one JSON line per scenario with --json', async () => {
    const r = await run(
      [
        'conformance',
        '--url',
        url,
        '--data',
        data,
        '--adapter',
        ADAPTER,
        '--scenario',
        'reconnect during a send storm,handshake',
        '--json',
      ],
      {},
      180_000,
    );
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((o) => [o.kind, o.scenario, o.ok])).toEqual([
      ['wire', 'handshake', true],
      ['sdk', 'reconnect during a send storm', true],
    ]);
  }, 240_000);

  it('fails, exit 1, naming the rule, when the SDK drops its offline sends', async () => {
    const r = await run(
      [
        'conformance',
        '--url',
        url,
        '--data',
        data,
        '--adapter',
        ADAPTER,
        '--scenario',
        'reconnect during a send storm',
      ],
      { PARLEY_ADAPTER_BREAK: 'outbox' },
      240_000,
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^✗ sdk reconnect during a send storm: step 8 \[outbox-delivers\] the server has 40 of the 45 messages/m,
    );
    expect(r.out).toMatch(/^0 of 1 scenarios passed$/m);
  }, 240_000);

  it('refuses a missing or bad --url, an unknown scenario, and a URL nothing answers, in one line', async () => {
    const cases: [string[], number, RegExp][] = [
      [['conformance'], 2, /^parley: parley conformance: --url URL is required$/],
      [['conformance', '--url', 'not a url'], 2, /--url not a url is not a URL/],
      [['conformance', '--url', 'ftp://x'], 2, /must be http:\/\/ or https:\/\//],
      [['conformance', '--url', url, '--data', data, '--scenario', 'nope'], 2, /no scenario named 'nope'/],
      [['conformance', '--url', `http://127.0.0.1:${await freePort()}`, '--data', data], 1, /nothing answers at/],
      [['conformance', '--url', url, '--data', tempDir()], 1, /no admin token/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(args, { PARLEY_ADMIN_TOKEN: '' });
      expect([r.code, r.err.trim()], args.join(' ')).toEqual([code, expect.stringMatching(message)]);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  }, 120_000);
});

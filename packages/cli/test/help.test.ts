/**
 * A CLI that explains itself: help and version exit 0 and print the right text; every
 * mistake on the command line is one `parley: …` line and exit 2; a failure while running is
 * one line and exit 1, without SQL, column names or a stack trace. Real `parley` processes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp, type Ran, ROOT, run, SLOW, tempDir } from './spawn.js';

afterAll(cleanUp);

const version = (JSON.parse(readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string })
  .version;

/** One line on stderr, `parley: …`, nothing on stdout, no stack or SQL. */
function expectOneLine(r: Ran, code: number, pattern: RegExp) {
  expect(r.code, r.err).toBe(code);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^parley: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at |select |insert |api_secret_sealed|Failed query/i);
}

// The command-line cases start only Node and tsx, no database: they run side by side.
describe.concurrent('help and version', () => {
  it.each([['--help'], ['-h'], ['help']])(
    'parley %s prints the commands and exits 0',
    async (flag) => {
      const r = await run([flag]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/^Usage: parley <command>/);
      for (const c of ['start', 'migrate', 'app create', 'app list', 'token', 'backup', 'restore'])
        expect(r.out).toContain(`  ${c} `);
    },
    SLOW,
  );

  it(
    'parley --version prints the package version and exits 0',
    async () => {
      const r = await run(['--version']);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe(version);
    },
    SLOW,
  );

  it.each([
    [['start', '--help'], 'Usage: parley start', '--workers N'],
    [['migrate', '-h'], 'Usage: parley migrate', '--data DIR'],
    [['app', 'create', '--help'], 'Usage: parley app create', '--name NAME'],
    [['app', 'list', '--help'], 'Usage: parley app list', '--json'],
    [['token', '--help'], 'Usage: parley token', '--expires TIME'],
    [['help', 'token'], 'Usage: parley token', '--server'],
    [['backup', '--help'], 'Usage: parley backup', '--passphrase-file FILE'],
    [['restore', '--help'], 'Usage: parley restore <backup.tar>', '--force'],
    [['app', '--help'], 'Usage: parley app create', 'Usage: parley app list'],
    // Help wins over everything else on the line, even a mistake.
    [['token', '--app', 'x', '--help'], 'Usage: parley token', '--user USER_ID'],
  ])(
    'parley %j prints its own help and exits 0',
    async (args, first, also) => {
      const r = await run(args);
      expect(r.code, r.err).toBe(0);
      expect(r.out.startsWith(first), r.out).toBe(true);
      expect(r.out).toContain(also);
    },
    SLOW,
  );
});

describe.concurrent('command line mistakes: one line, exit 2', () => {
  it.each([
    [[], /no command given/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['app'], /needs a subcommand: create, list/],
    [['app', 'delete'], /unknown command "parley app delete"/],
    [['start', '--nope'], /unknown option --nope for parley start/],
    [['start', '-x'], /unknown option -x/],
    [['token', '--workers', '2'], /unknown option --workers for parley token/],
    [['start', 'now'], /unexpected argument "now"/],
    // A mistyped option is named (not its value, which would read as a stray argument), with the near one.
    [
      ['import', 'slack', '--workspac', '1', 'export.zip'],
      /unknown option --workspac for parley import slack \(did you mean --workspace\? see parley import slack --help\)/,
    ],
    [['start', '--prot', '80'], /unknown option --prot for parley start \(did you mean --port\?/],
    [
      ['backup', '--passphrase', 'f'],
      /unknown option --passphrase for parley backup \(did you mean --passphrase-file\?/,
    ],
    [['start', '--zzzzzz'], /unknown option --zzzzzz for parley start \(see parley start --help\)/],
    [['start', '--port'], /--port needs a value/],
    [['start', '--port', 'abc'], /--port takes a port number from 0 to 65535, got "abc"/],
    [['start', '--port', '70000'], /--port takes a port number/],
    [['start', '--workers', '0'], /--workers takes a whole number of at least 1/],
    [['start', '--port', '1', '--port', '2'], /--port given twice/],
    [['app', 'create'], /needs --name NAME/],
    [['app', 'create', '--name'], /--name needs a value/],
    [['app', 'list', '--json=yes'], /--json takes no value/],
    [['token', '--user', 'u'], /needs --app APP_ID/],
    [['token', '--app', 'a'], /needs --user USER_ID or --server/],
    [['token', '--app', 'a', '--user', 'u', '--server'], /--user and --server cannot be used together/],
    [['token', '--app', 'a', '--user', 'u', '--expires', '0s'], /--expires takes a positive time/],
    [['token', '--app', 'a', '--user', 'u', '--expires', 'soon'], /--expires takes a positive time/],
    [['--version', 'start'], /--version takes no command/],
    [['backup'], /needs a passphrase to seal the master key into the archive .* or --no-key/],
    [['backup', '--no-key', '--passphrase-file', 'p'], /--no-key and --passphrase-file cannot be used together/],
    [['backup', '--verify', 'b.tar', '--no-key'], /--verify checks an archive; it takes no --no-key/],
    [['restore'], /parley restore needs the archive/],
  ])(
    'parley %j',
    async (args, pattern) => {
      expectOneLine(await run(args), 2, pattern);
    },
    SLOW,
  );

  it(
    'an invalid PORT in the environment is named',
    async () => {
      expectOneLine(await run(['start'], { PORT: 'abc' }), 2, /PORT takes a port number/);
    },
    SLOW,
  );
});

describe('failures while running: one line, exit 1, nothing internal', () => {
  it(
    'token for an app id that is no UUID says there is no such app (no SQL, no column names)',
    async () => {
      const r = await run(['token', '--app', 'nope', '--user', 'u', '--data', tempDir()]);
      expectOneLine(r, 1, /^parley: no app with id nope\b/);
    },
    SLOW,
  );

  it(
    'token for an unknown app id, straight from the data folder',
    async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      const r = await run(['token', '--app', id, '--user', 'u', '--data', tempDir()]);
      expectOneLine(r, 1, new RegExp(`^parley: no app with id ${id}\\b`));
    },
    SLOW,
  );

  it(
    'a master key of the wrong shape is one line',
    async () => {
      const r = await run(['app', 'list', '--data', tempDir()], { PARLEY_MASTER_KEY: 'short' });
      expectOneLine(r, 1, /PARLEY_MASTER_KEY must be 32 bytes/);
    },
    SLOW,
  );
});

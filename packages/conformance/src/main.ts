/**
 * `parley-conformance`, this package's bin (`npx @parley/conformance --url … --adapter "…"`): the
 * same command as `parley conformance` of @parley/cli (command.ts), for those who test an SDK or a
 * proxy without installing the server. Failures print one line, `parley-conformance: <message>`,
 * and exit 2 for the command line, 1 for anything else.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConformanceError, ConformanceUsageError, conformance } from './command.js';

const NAME = 'parley-conformance';

const HELP = `${NAME} --url URL [--adapter COMMAND] [--scenario NAMES] [--json] [--data DIR]

Runs Parley's conformance kit against a running server: its wire scenarios over a bare WebSocket,
and, with --adapter, its SDK scenarios through an adapter for your SDK.

  --url URL          the Parley server to test, e.g. http://127.0.0.1:3000
  --adapter COMMAND  started (by the shell) once per SDK scenario; it reads one JSON request per line
                     on stdin and answers each on stdout (README.md, "SDK adapters")
  --scenario NAMES   only these scenarios, comma-separated
  --json             one JSON object per scenario instead of a line of text
  --data DIR         where the server's admin-token is, when PARLEY_ADMIN_TOKEN is not set (default ./.parley)
  --help, --version

Each scenario runs in an app of its own, made with the operator's admin token. A failure names the
scenario, the step and the rule it breaks. Exit 0 when every scenario passes, 1 otherwise.
`;

/** The admin token: PARLEY_ADMIN_TOKEN, else the file the server wrote into its data folder. */
function adminToken(data: string | undefined): string {
  if (process.env.PARLEY_ADMIN_TOKEN) return process.env.PARLEY_ADMIN_TOKEN;
  const file = path.resolve(data ?? '.parley', 'admin-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new ConformanceError(`no admin token: ${file} is missing and PARLEY_ADMIN_TOKEN is not set`);
  }
}

/** Run the command with `argv` (without node and the script); the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (e) {
      throw new ConformanceUsageError(`${(e as Error).message} (${NAME} --help lists the options)`);
    }
    const { values } = parsed;
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.version) {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    return await conformance({
      name: NAME,
      url: values.url,
      adapter: values.adapter,
      scenario: values.scenario,
      json: values.json,
      adminToken: () => adminToken(values.data),
    });
  } catch (e) {
    const usage = e instanceof ConformanceUsageError;
    const message = usage || e instanceof ConformanceError ? e.message : String((e as Error)?.message ?? e);
    process.stderr.write(`${NAME}: ${message}\n`);
    if (process.env.PARLEY_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return usage ? 2 : 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      adapter: { type: 'string' },
      scenario: { type: 'string' },
      json: { type: 'boolean' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
}

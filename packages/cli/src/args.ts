/**
 * The command line: which commands exist, which options each takes, their help, and a
 * parser that turns any mistake into one `UsageError` line (exit 2), never a stack trace.
 *
 * Hand-written rather than `util.parseArgs`: parseArgs takes `--port --json` as the port
 * "--json", and its messages name its own API; here each option belongs to the commands
 * that use it, and every message names the command and the option.
 */
import { UsageError } from './errors.js';

type OptionSpec = { type: 'string'; value: string; help: string } | { type: 'boolean'; help: string };

const OPTIONS = {
  port: { type: 'string', value: 'N', help: 'port to listen on (env PORT, default 3000; 0 picks a free one)' },
  host: { type: 'string', value: 'H', help: 'address to listen on (env HOST, default 127.0.0.1)' },
  data: { type: 'string', value: 'DIR', help: 'data folder (env PARLEY_DATA_DIR, default ./.parley)' },
  workers: { type: 'string', value: 'N', help: 'server processes on one port (needs DATABASE_URL and REDIS_URL)' },
  name: { type: 'string', value: 'NAME', help: "the app's name" },
  json: { type: 'boolean', help: 'print JSON' },
  app: { type: 'string', value: 'APP_ID', help: "the app's id (from `parley app create` or `parley app list`)" },
  user: { type: 'string', value: 'USER_ID', help: 'mint a user token for this user id' },
  server: { type: 'boolean', help: 'mint a server token instead of a user token' },
  expires: { type: 'string', value: 'TIME', help: 'lifetime: 30s, 15m, 1h, 7d, 2w (default: no expiry)' },
  url: { type: 'string', value: 'URL', help: 'the URL events are POSTed to' },
  events: {
    type: 'string',
    value: 'TYPES',
    help: 'comma-separated event types: message.new, reaction.*, member.*, channel.*, user.*, * …',
  },
  id: { type: 'string', value: 'WEBHOOK_ID', help: "the webhook's id (from parley webhooks list)" },
  delivery: {
    type: 'string',
    value: 'DELIVERY_ID',
    help: 'the delivery to send again (from parley webhooks deliveries)',
  },
  overlap: {
    type: 'string',
    value: 'SECONDS',
    help: 'how long the old secret keeps signing beside the new one (default 86400, at most 604800; 0: none)',
  },
  since: { type: 'string', value: 'TIME', help: 'the start of the range (an ISO time, e.g. 2026-11-20T09:00:00Z)' },
  until: { type: 'string', value: 'TIME', help: 'the end of the range, not included (an ISO time; default now)' },
  workspace: {
    type: 'string',
    value: 'WORKSPACE_ID',
    help: "the workspace to import into (its app's id: parley app list shows them)",
  },
  'dry-run': {
    type: 'boolean',
    help: 'check the whole export and report what would be imported, or every problem (exit 1), writing nothing',
  },
  'max-entries': { type: 'string', value: 'N', help: 'most entries the export zip may hold (default 200000)' },
  'max-entry-size': {
    type: 'string',
    value: 'SIZE',
    help: 'most bytes one entry may inflate to: 512, 64MiB, 1GiB (default 256MiB)',
  },
  'max-total-size': {
    type: 'string',
    value: 'SIZE',
    help: 'most bytes all entries together may inflate to (default 16GiB)',
  },
  'max-ratio': {
    type: 'string',
    value: 'N',
    help: 'most times an entry may inflate over its compressed size, past its first MiB (default 100)',
  },
  team: {
    type: 'string',
    value: 'NAME',
    help: "the export's team to import, by name (needed when it has more than one)",
  },
  out: { type: 'string', value: 'FILE', help: 'where to write the archive (default ./parley-backup-<time>.tar)' },
  verify: {
    type: 'string',
    value: 'FILE',
    help: 'check an archive (every entry against its manifest) without restoring it',
  },
  'passphrase-file': {
    type: 'string',
    value: 'FILE',
    help: 'read the passphrase that seals the master key from FILE (or env PARLEY_BACKUP_PASSPHRASE)',
  },
  'no-key': { type: 'boolean', help: 'leave the master key out (you keep it: PARLEY_MASTER_KEY or <data>/master.key)' },
  force: { type: 'boolean', help: 'replace a deployment that holds data' },
  adapter: {
    type: 'string',
    value: 'COMMAND',
    help: 'run the SDK scenarios through this adapter (a command speaking JSON lines on stdin/stdout)',
  },
  scenario: { type: 'string', value: 'NAMES', help: "only these scenarios (comma-separated, by their 'name')" },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
export type Values = Partial<Record<OptionName | 'file', string | boolean>>;

interface CommandSpec {
  /** `start`, `app create` … */
  name: string;
  synopsis: string;
  summary: string;
  options: OptionName[];
  /** Help of an option that means something else for this command. */
  optionHelp?: Partial<Record<OptionName, string>>;
  details?: string;
  /** A positional argument the command takes (its value lands in `values.file`). */
  argument?: string;
}

/** Options that say where the server and its data are, for commands that find it. */
const FIND: OptionName[] = ['data', 'port'];
const FIND_HELP = { port: 'with DATABASE_URL: the port of a running server to use (env PORT, default 3000)' };

const WEBHOOKS =
  'Webhooks are managed through the admin API of a running server (as the app, with a server token).\n' +
  'Deliveries are signed: X-Parley-Signature t=<unix s>,v1=<HMAC-SHA256 of "<t>.<body>"> (docs/protocol.md).';

export const COMMANDS: CommandSpec[] = [
  {
    name: 'start',
    synopsis: 'parley start [--port N] [--host H] [--data DIR] [--workers N]',
    summary: 'run the server',
    options: ['port', 'host', 'data', 'workers'],
    details:
      'Embedded PGlite keeps its data in the data folder, which belongs to this one process while it runs\n' +
      '(<data>/owner.lock): other commands reach it through its admin API. DATABASE_URL and REDIS_URL switch\n' +
      'to PostgreSQL and Redis; then --workers defaults to the number of CPUs.',
  },
  {
    name: 'migrate',
    synopsis: 'parley migrate [--data DIR]',
    summary: 'apply pending database migrations and exit',
    options: ['data'],
    details:
      'On PGlite it refuses while a server owns the data folder (the server applied them when it started).\n' +
      'With DATABASE_URL, an advisory lock lets it run beside running servers.',
  },
  {
    name: 'app create',
    synopsis: 'parley app create --name NAME [--json] [--data DIR]',
    summary: 'create an app: prints its id, api_key and api_secret',
    options: ['name', 'json', ...FIND],
    optionHelp: FIND_HELP,
  },
  {
    name: 'app list',
    synopsis: 'parley app list [--json] [--data DIR]',
    summary: 'list the apps (without secrets)',
    options: ['json', ...FIND],
    optionHelp: FIND_HELP,
  },
  {
    name: 'token',
    synopsis: 'parley token --app APP_ID (--user USER_ID | --server) [--expires TIME] [--data DIR]',
    summary: "print a user token (or a server token) signed with an app's secret",
    options: ['app', 'user', 'server', 'expires', ...FIND],
    optionHelp: FIND_HELP,
  },
  {
    name: 'webhooks list',
    synopsis: 'parley webhooks list --app APP_ID [--json] [--data DIR]',
    summary: "list an app's webhook endpoints (active or disabled, and why)",
    options: ['app', 'json', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks create',
    synopsis: 'parley webhooks create --app APP_ID --url URL --events TYPES [--json] [--data DIR]',
    summary: 'add a webhook endpoint: prints its id and its signing secret (shown once)',
    options: ['app', 'url', 'events', 'json', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks delete',
    synopsis: 'parley webhooks delete --app APP_ID --id WEBHOOK_ID [--data DIR]',
    summary: 'delete a webhook endpoint and its delivery log',
    options: ['app', 'id', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks deliveries',
    synopsis: 'parley webhooks deliveries --app APP_ID --id WEBHOOK_ID [--json] [--data DIR]',
    summary: "an endpoint's delivery log, newest first (status, attempts, latency)",
    options: ['app', 'id', 'json', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks test',
    synopsis: 'parley webhooks test --app APP_ID --id WEBHOOK_ID [--json] [--data DIR]',
    summary: 'send a webhook.test event now (active or paused) and print how the receiver took it',
    options: ['app', 'id', 'json', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks pause',
    synopsis: 'parley webhooks pause --app APP_ID --id WEBHOOK_ID [--data DIR]',
    summary: 'pause an endpoint: what it would receive is kept for it (7 days) and sent when it is resumed',
    options: ['app', 'id', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks resume',
    synopsis: 'parley webhooks resume --app APP_ID --id WEBHOOK_ID [--data DIR]',
    summary: 're-enable a paused or disabled endpoint; what waited is sent, in order',
    options: ['app', 'id', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks rotate-secret',
    synopsis: 'parley webhooks rotate-secret --app APP_ID --id WEBHOOK_ID [--overlap SECONDS] [--json] [--data DIR]',
    summary: 'make a new signing secret (shown once); the old one keeps signing beside it for the overlap',
    options: ['app', 'id', 'overlap', 'json', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks replay',
    synopsis: 'parley webhooks replay --app APP_ID --id WEBHOOK_ID --since TIME [--until TIME] [--data DIR]',
    summary: "send the event log's channel events of a time range again (same event ids)",
    options: ['app', 'id', 'since', 'until', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'webhooks redeliver',
    synopsis: 'parley webhooks redeliver --app APP_ID --id WEBHOOK_ID --delivery DELIVERY_ID [--data DIR]',
    summary: 'send a delivered or failed event again',
    options: ['app', 'id', 'delivery', ...FIND],
    optionHelp: FIND_HELP,
    details: WEBHOOKS,
  },
  {
    name: 'demo',
    synopsis: 'parley demo [--json] [--data DIR]',
    summary: 'seed a demo workspace (people, channels, threads, reactions, a poll, files) to try the web app',
    options: ['json', 'data', 'port'],
    optionHelp: FIND_HELP,
    details:
      'Signs people up and talks through the HTTP API like a real team would. With a server running on the\n' +
      'data folder it seeds through that server; otherwise it starts one of its own on a free port for the\n' +
      'seeding and stops it. Prints where to sign in. Run twice, it refuses and changes nothing.',
  },
  {
    name: 'backup',
    synopsis:
      'parley backup [--out FILE] [--passphrase-file FILE | --no-key] [--data DIR] [--json]\n       parley backup --verify FILE [--json]',
    summary: 'back up everything a deployment holds into one archive (or check one with --verify)',
    options: ['out', 'passphrase-file', 'no-key', 'verify', 'json', ...FIND],
    optionHelp: FIND_HELP,
    details:
      'The archive holds the database (PGlite: its folder; PostgreSQL: pg_dump), every object of the file store\n' +
      '(local folder or S3 bucket) and, sealed with a passphrase, the master key that reads the app secrets, with a\n' +
      'manifest of sizes and SHA-256 digests. It runs while the server serves traffic: with a server on the data\n' +
      'folder it goes through its admin API; otherwise it opens the data itself. The archive is verified before\n' +
      'the command reports success. docs/backup.md: what it holds, how long it takes, how to schedule it.',
  },
  {
    name: 'restore',
    synopsis: 'parley restore <backup.tar> [--passphrase-file FILE] [--force] [--data DIR] [--json]',
    summary: 'restore an archive of parley backup into a stopped, empty deployment',
    options: ['passphrase-file', 'force', 'json', ...FIND],
    optionHelp: FIND_HELP,
    argument: 'backup.tar',
    details:
      'Verifies the archive first, then loads the database, the objects and the master key into the deployment\n' +
      'that --data / DATABASE_URL / PARLEY_S3_* describe. Stop its servers first. A deployment that holds data is\n' +
      'refused unless --force (a PGlite folder is then moved aside, a PostgreSQL database emptied). A backup from a\n' +
      'newer Parley, or of the other database kind, is refused. Clients reconnecting afterwards reload their channels.',
  },
  {
    name: 'import slack',
    synopsis: 'parley import slack <export.zip> --workspace WORKSPACE_ID [--dry-run] [--json] [--data DIR] [--max-… N]',
    summary: 'import a Slack workspace export (users, channels, private channels, DMs, messages) into a workspace',
    options: ['workspace', 'dry-run', 'json', 'data', 'max-entries', 'max-entry-size', 'max-total-size', 'max-ratio'],
    argument: 'export.zip',
    details:
      'Opens the data folder itself: on PGlite it refuses while a server runs on the folder (stop it first);\n' +
      'with DATABASE_URL it imports into PostgreSQL. Re-running imports nothing twice. Users are matched to\n' +
      "the workspace's members by email, created otherwise (without an account: they cannot sign in).\n" +
      'The zip is read as a stream within limits (--max-…), and the whole export is checked before anything is\n' +
      'written: a bad export is refused with every problem (file and reason), and the import is all or nothing.',
  },
  {
    name: 'import mattermost',
    synopsis:
      'parley import mattermost <export.zip|import.jsonl> --workspace WORKSPACE_ID [--team NAME] [--dry-run] [--json] [--data DIR] [--max-… N]',
    summary: 'import a Mattermost bulk export (mmctl export create: a team, its channels, DMs, posts) into a workspace',
    options: [
      'workspace',
      'team',
      'dry-run',
      'json',
      'data',
      'max-entries',
      'max-entry-size',
      'max-total-size',
      'max-ratio',
    ],
    argument: 'export.zip',
    details:
      'Reads the zip of mmctl export create (import.jsonl and the attachments under data/) or a bare .jsonl\n' +
      '(attachments from the data/ folder beside it). One team becomes the workspace: --team NAME picks it\n' +
      'when the export has several. Opens the data folder itself, as parley import slack does: on PGlite it\n' +
      'refuses while a server runs on the folder. The whole export is checked first (every problem named by\n' +
      'file:line and reason), then imported all or nothing; re-running imports nothing twice.',
  },
  {
    name: 'import parley',
    synopsis:
      'parley import parley <workspace.zip> --workspace WORKSPACE_ID [--dry-run] [--json] [--data DIR] [--max-… N]',
    summary:
      "import a workspace export in Parley's own format (parley export, on this or another server) into a workspace",
    options: ['workspace', 'dry-run', 'json', 'data', 'max-entries', 'max-entry-size', 'max-total-size', 'max-ratio'],
    argument: 'workspace.zip',
    details:
      'Every channel, member, message (threads, quotes, edits, reactions, pins, polls and votes), note, file and\n' +
      "the workspace's settings, with their ids kept (docs/moving.md). Opens the data folder itself, as parley\n" +
      'import slack does, or goes through the server that owns it. The whole archive is checked first (every\n' +
      'problem named by file:line and reason), then imported all or nothing; re-running imports nothing twice.',
  },
  {
    name: 'export',
    synopsis: 'parley export <workspace.zip> --workspace WORKSPACE_ID [--json] [--data DIR] [--port N]',
    summary:
      "export a workspace in Parley's own format, to move it to another server (parley import parley) or to leave",
    options: ['workspace', 'json', ...FIND],
    optionHelp: { ...FIND_HELP, workspace: "the workspace to export (its app's id: parley app list shows them)" },
    argument: 'workspace.zip',
    details:
      "A zip of manifest.json, settings.json, one JSONL file a kind of row and the files' bytes (docs/moving.md).\n" +
      'Through the admin API of the server that owns the data, or by opening it when none runs. Written to\n' +
      'FILE.partial and read back before it takes its name: a FILE that exists is a whole archive.',
  },
  {
    name: 'conformance',
    synopsis: 'parley conformance --url URL [--adapter COMMAND] [--scenario NAMES] [--json] [--data DIR]',
    summary: "run the conformance kit against a server: its wire scenarios, and an SDK's through an adapter",
    options: ['url', 'adapter', 'scenario', 'json', 'data'],
    optionHelp: {
      url: 'the Parley server to test, e.g. http://127.0.0.1:3000',
      data: "where the server's admin-token is, when PARLEY_ADMIN_TOKEN is not set (default ./.parley)",
    },
    details:
      'Each scenario runs in an app of its own, made with the admin token (PARLEY_ADMIN_TOKEN, or <data>/admin-token).\n' +
      'The wire scenarios need only the server. The SDK scenarios drive an SDK through --adapter, a command started\n' +
      'once per scenario that reads one JSON request per line and answers each (the README of @parley/conformance,\n' +
      '"SDK adapters"). A failure names the scenario, the step and the rule it breaks. Exit 0 when every scenario\n' +
      "passes, 1 otherwise. The command is @parley/conformance's (`npx @parley/conformance` takes the same options).",
  },
];

const FINDING =
  'When a server owns the data folder, `app` and `token` go through its admin API on the port it\n' +
  'listens on (read from <data>/owner.lock), waiting while it starts; with no server they open the\n' +
  'database themselves. With DATABASE_URL they use a server answering on 127.0.0.1:--port (env PORT),\n' +
  'or PostgreSQL directly.';

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: parley <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'parley <command> --help   the options of one command',
    'parley --version          print the version',
    '',
    'Environment: PORT, HOST, PARLEY_DATA_DIR, DATABASE_URL, REDIS_URL, PARLEY_ADMIN_TOKEN,',
    'PARLEY_MASTER_KEY, LOG_LEVEL, … (docs/settings.md describes each). PARLEY_DEBUG=1 shows error details.',
    '',
  ].join('\n');
}

export function commandUsage(c: CommandSpec): string {
  const opts = [...c.options, 'help' as const].map((o) => {
    const spec: OptionSpec = OPTIONS[o];
    return [`--${o}${spec.type === 'string' ? ` ${spec.value}` : ''}`, c.optionHelp?.[o] ?? spec.help] as const;
  });
  const width = Math.max(...opts.map(([f]) => f.length));
  const details = c.details ?? (c.options.includes('port') && c.name !== 'start' ? FINDING : undefined);
  return [
    `Usage: ${c.synopsis}`,
    '',
    `${c.summary[0]?.toUpperCase()}${c.summary.slice(1)}.`,
    '',
    'Options:',
    ...opts.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
    ...(details ? ['', details] : []),
    '',
  ].join('\n');
}

/** What the command line asks for. */
export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'run'; command: string; values: Values };

/**
 * Parse `argv` (without node and the script). Throws `UsageError` for anything it cannot
 * run: an unknown command or option, an option of another command, a missing value.
 */
export function parseCommandLine(argv: string[]): Parsed {
  const words: string[] = [];
  const flags: { name: string; value: string | undefined; raw: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') flags.push({ name: 'help', value: undefined, raw: a });
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      let value = eq === -1 ? undefined : a.slice(eq + 1);
      const spec = (OPTIONS as Record<string, OptionSpec>)[name];
      // A string option takes the next word unless that is another option.
      if (value === undefined && spec?.type === 'string') {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('-')) {
          value = next;
          i++;
        }
      }
      flags.push({ name, value, raw: eq === -1 ? a : a.slice(0, eq) });
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option ${a} (see parley --help)`);
    } else words.push(a);
  }

  const wantsHelp = flags.some((f) => f.name === 'help');
  if (flags.some((f) => f.name === 'version')) {
    if (words.length === 0 && flags.length === 1) return { kind: 'version' };
    throw new UsageError('--version takes no command or other option');
  }
  if (words[0] === 'help') {
    const rest = words.slice(1).join(' ');
    if (!rest) return { kind: 'help', text: mainUsage() };
    const c = findCommand(rest) ?? groupHelp(rest);
    if (!c) throw new UsageError(`unknown command "${rest}" (see parley --help)`);
    return { kind: 'help', text: typeof c === 'string' ? c : commandUsage(c) };
  }
  if (words.length === 0) {
    if (wantsHelp) return { kind: 'help', text: mainUsage() };
    if (flags.length > 0) throw new UsageError(`${flags[0]?.raw} needs a command first (see parley --help)`);
    throw new UsageError('no command given (see parley --help)');
  }

  // Commands of one or two words (`start`, `app create`).
  const two = words.slice(0, 2).join(' ');
  const command = findCommand(two) ?? findCommand(words[0] as string);
  if (!command) {
    const group = groupHelp(words[0] as string);
    if (group && (wantsHelp || words.length === 1)) {
      if (wantsHelp) return { kind: 'help', text: group };
      throw new UsageError(`"parley ${words[0]}" needs a subcommand: ${subcommands(words[0] as string).join(', ')}`);
    }
    if (group) throw new UsageError(`unknown command "parley ${two}" (see parley ${words[0]} --help)`);
    throw new UsageError(`unknown command "${words[0]}" (see parley --help)`);
  }
  if (wantsHelp) return { kind: 'help', text: commandUsage(command) };
  // A mistyped option first: its value is then a stray word, and "unexpected argument" would
  // name the value rather than the option.
  for (const f of flags) {
    if ((OPTIONS as Record<string, OptionSpec>)[f.name] && command.options.includes(f.name as OptionName)) continue;
    const near = closestOption(f.name, command.options);
    const hint = near ? `did you mean --${near}? ` : '';
    throw new UsageError(
      `unknown option ${f.raw} for parley ${command.name} (${hint}see parley ${command.name} --help)`,
    );
  }
  const extra = words.slice(command.name.split(' ').length);
  const positional = command.argument ? extra.shift() : undefined;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" for parley ${command.name}`);

  const values: Values = {};
  if (positional !== undefined) values.file = positional;
  for (const f of flags) {
    const spec = (OPTIONS as Record<string, OptionSpec>)[f.name] as OptionSpec;
    if (f.name in values) throw new UsageError(`${f.raw} given twice`);
    if (spec.type === 'boolean') {
      if (f.value !== undefined) throw new UsageError(`${f.raw} takes no value`);
      values[f.name as OptionName] = true;
    } else {
      if (f.value === undefined || f.value === '')
        throw new UsageError(`${f.raw} needs a value: ${f.raw} ${spec.value}`);
      values[f.name as OptionName] = f.value;
    }
  }
  checkValues(command.name, values);
  return { kind: 'run', command: command.name, values };
}

function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function subcommands(group: string): string[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.split(' ')[1] as string);
}

/** The help of a command group (`parley app`), or undefined when `name` is none. */
function groupHelp(name: string): string | undefined {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${name} `));
  if (members.length === 0) return undefined;
  return `${members.map((c) => `Usage: ${c.synopsis}\n  ${c.summary}`).join('\n\n')}\n\nparley ${name} <subcommand> --help shows its options.\n`;
}

/**
 * The command's option nearest to a mistyped one: at most two edits away (a letter left out,
 * added, changed), or the typed name a prefix of one option only. Undefined when none is near.
 */
function closestOption(typed: string, options: readonly OptionName[]): OptionName | undefined {
  let best: OptionName | undefined;
  let bestDistance = 3;
  for (const o of options) {
    const d = editDistance(typed, o);
    if (d < bestDistance) [best, bestDistance] = [o, d];
  }
  if (best) return best;
  const prefixed = typed.length >= 2 ? options.filter((o) => o.startsWith(typed)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Levenshtein distance (two short words: one row of the table at a time). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + cost);
    }
    row = next;
  }
  return row[b.length] as number;
}

/** A port from a flag or PORT: a whole number 0–65535. */
export function parsePort(raw: string, what: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new UsageError(`${what} takes a port number from 0 to 65535, got "${raw}"`);
  }
  return Number(raw);
}

// The admin API's rule for `expires_in` (features/apps/routes.ts): a positive count of at most six digits.
const EXPIRES = /^([1-9][0-9]{0,5}) ?(s|m|h|d|w)$/;

/** Checks that need more than one option, or the shape of a value. */
function checkValues(command: string, v: Values): void {
  if (typeof v.port === 'string') parsePort(v.port, '--port');
  if (typeof v.workers === 'string' && !/^[1-9][0-9]*$/.test(v.workers)) {
    throw new UsageError(`--workers takes a whole number of at least 1, got "${v.workers}"`);
  }
  if (command === 'app create' && v.name === undefined) throw new UsageError('parley app create needs --name NAME');
  if (command.startsWith('webhooks ')) {
    if (v.app === undefined) throw new UsageError(`parley ${command} needs --app APP_ID`);
    if (command === 'webhooks create' && (v.url === undefined || v.events === undefined))
      throw new UsageError('parley webhooks create needs --url URL and --events TYPES');
    if (command !== 'webhooks list' && command !== 'webhooks create' && v.id === undefined)
      throw new UsageError(`parley ${command} needs --id WEBHOOK_ID`);
    if (typeof v.overlap === 'string' && !(/^\d{1,6}$/.test(v.overlap) && Number(v.overlap) <= 604_800))
      throw new UsageError(`--overlap takes seconds from 0 to 604800 (7 days), got "${v.overlap}"`);
    if (command === 'webhooks replay' && v.since === undefined)
      throw new UsageError('parley webhooks replay needs --since TIME');
    for (const o of ['since', 'until'] as const) {
      const t = v[o];
      if (typeof t === 'string' && Number.isNaN(Date.parse(t)))
        throw new UsageError(`--${o} takes a time such as 2026-11-20T09:00:00Z, got "${t}"`);
    }
    if (command === 'webhooks redeliver' && v.delivery === undefined)
      throw new UsageError('parley webhooks redeliver needs --delivery DELIVERY_ID');
  }
  if (command === 'backup') {
    if (v.verify !== undefined) {
      const other = (['out', 'passphrase-file', 'no-key'] as const).find((o) => v[o] !== undefined);
      if (other) throw new UsageError(`--verify checks an archive; it takes no --${other}`);
    } else if (v['no-key'] && v['passphrase-file'] !== undefined)
      throw new UsageError('--no-key and --passphrase-file cannot be used together');
  }
  if (command === 'restore' && v.file === undefined)
    throw new UsageError('parley restore needs the archive: parley restore <backup.tar>');
  if (command === 'export') {
    if (v.file === undefined)
      throw new UsageError('parley export needs the file to write: parley export <workspace.zip>');
    if (v.workspace === undefined) throw new UsageError('parley export needs --workspace WORKSPACE_ID');
  }
  if (command === 'import slack' || command === 'import mattermost' || command === 'import parley') {
    if (v.file === undefined)
      throw new UsageError(
        `parley ${command} needs the export: parley ${command} <${COMMANDS.find((c) => c.name === command)?.argument ?? 'export.zip'}>`,
      );
    if (v.workspace === undefined) throw new UsageError(`parley ${command} needs --workspace WORKSPACE_ID`);
    for (const o of ['max-entries', 'max-entry-size', 'max-total-size', 'max-ratio'] as const) {
      const t = v[o];
      if (typeof t !== 'string') continue;
      const n = parseSize(t);
      if (!Number.isSafeInteger(n) || n < 1 || (!o.endsWith('size') && !/^\d+$/.test(t.trim())))
        throw new UsageError(
          `--${o} takes a positive ${o.endsWith('size') ? 'size such as 64MiB or 1GiB' : 'whole number'}, got "${t}"`,
        );
    }
  }
  if (command === 'token') {
    if (v.app === undefined) throw new UsageError('parley token needs --app APP_ID');
    if (v.user !== undefined && v.server) throw new UsageError('--user and --server cannot be used together');
    if (v.user === undefined && !v.server) throw new UsageError('parley token needs --user USER_ID or --server');
    if (typeof v.expires === 'string') {
      const m = EXPIRES.exec(v.expires);
      if (!m) {
        throw new UsageError(`--expires takes a positive time like 30s, 15m, 1h, 7d or 2w, got "${v.expires}"`);
      }
    }
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `512`, `64MiB`, `2GiB` (binary units; `k`, `m`, `g` too) as bytes; NaN when it is none. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] as string).toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
}

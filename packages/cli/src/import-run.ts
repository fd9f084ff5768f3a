/**
 * What `parley import slack` and `parley import mattermost` share: the export read within its
 * limits before the database is opened (a bomb or a broken zip touches nothing), the data
 * folder's lock on PGlite (a server running on it is refused with word to stop it; on
 * PostgreSQL the import's one transaction runs beside any servers), the progress on stderr, a
 * dry run's problems as its answer (exit 1, like `mmctl import validate`), and the report on
 * stdout (`--json`: as the server gives it).
 *
 * Directly, never through a running server: the importers write rows with their original times
 * and ids, which no API takes.
 */
import type { Config, Database, ExportArchive, ExportLimits } from '@parley/server';
import { parseSize, type Values } from './args.js';
import { CliError } from './errors.js';
import { describeOwner } from './owner-lock.js';
import { takeFolder } from './reach.js';
import { cliEnv, settings } from './settings.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Server = typeof import('@parley/server');

/** What an import command prints on stdout and exits with. */
export interface ImportOutcome {
  code: 0 | 1;
  out: string;
}

/** The zip's limits: the defaults (docs/cli.md), each overridden by its flag. */
export function exportLimits(values: Values, defaults: ExportLimits): ExportLimits {
  const n = (name: 'max-entries' | 'max-entry-size' | 'max-total-size' | 'max-ratio', d: number) => {
    const v = values[name];
    return typeof v === 'string' ? parseSize(v) : d;
  };
  return {
    maxEntries: n('max-entries', defaults.maxEntries),
    maxEntryBytes: n('max-entry-size', defaults.maxEntryBytes),
    maxTotalBytes: n('max-total-size', defaults.maxTotalBytes),
    maxRatio: n('max-ratio', defaults.maxRatio),
  };
}

/** One import command: how it reads its export, runs its importer and words its report. */
export interface ImportCommand<R> {
  /** `slack` | `mattermost`, as in `parley import <source>`. */
  source: string;
  open(server: Server, file: string, limits: ExportLimits, cfg: Config): Promise<ExportArchive>;
  run(
    server: Server,
    database: Database,
    workspace: string,
    archive: ExportArchive,
    opts: {
      dryRun: boolean;
      onProgress: (done: number, total: number, channel: string | null) => void;
      store: ReturnType<Server['createStorage']>['store'];
      cfg: Config;
    },
  ): Promise<R>;
  describe(report: R): string;
  /** How the progress names a channel (`#general`). */
  channel(name: string): string;
}

export async function runImport<R>(values: Values, cmd: ImportCommand<R>): Promise<ImportOutcome> {
  const workspace = values.workspace as string;
  if (!UUID.test(workspace)) throw new CliError(`no workspace with id ${workspace}`);
  const server = await import('@parley/server');
  const dryRun = !!values['dry-run'];
  const s = settings(values);
  const cfg = server.configFromEnv(cliEnv(values));
  let archive: ExportArchive;
  try {
    archive = await cmd.open(server, values.file as string, exportLimits(values, server.DEFAULT_EXPORT_LIMITS), cfg);
  } catch (e) {
    if (e instanceof server.ImportInputError) throw new CliError(e.message);
    throw e;
  }
  const work = async (): Promise<ImportOutcome> => {
    // The file store the server uses (the data folder's `files`, or S3), for files the export holds.
    const { store } = server.createStorage(cfg, server.loadMasterKey(cfg.masterKey, cfg.dataDir));
    const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
    const bar = progress(cmd.channel);
    try {
      await server.runMigrations(database);
      const report = await cmd.run(server, database, workspace, archive, {
        dryRun,
        onProgress: bar.update,
        store,
        cfg,
      });
      return { code: 0, out: values.json ? JSON.stringify(report) : cmd.describe(report) };
    } catch (e) {
      // A dry run's answer is the list of problems (stdout, like mmctl import validate), exit 1.
      if (e instanceof server.ExportRefusedError && dryRun) {
        bar.end();
        return {
          code: 1,
          out: values.json
            ? JSON.stringify({ dry_run: true, problems: e.problems })
            : [
                `Dry run: the export has ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}; it would be refused:`,
                ...e.problems.map((p) => `  ${p.file}: ${p.reason}`),
              ].join('\n'),
        };
      }
      if (e instanceof server.ImportInputError) throw new CliError(e.message);
      throw e;
    } finally {
      bar.end();
      await database.close();
      await archive.close();
    }
  };
  if (s.databaseUrl) return work();
  const command = `import ${cmd.source}`;
  const lock = await takeFolder(
    s,
    { kind: 'command', command },
    (owner) =>
      `${s.dataDir} is in use by ${describeOwner(owner)}; stop the server (parley ${command} writes to the ` +
      'data folder directly), then run the import again',
  ).catch(async (e: unknown) => {
    await archive.close();
    throw e;
  });
  try {
    return await work();
  } finally {
    lock.release();
  }
}

/** A bar on a terminal, a line a channel otherwise (both on stderr, so --json stays clean). */
function progress(label: (name: string) => string) {
  const tty = process.stderr.isTTY;
  let drawn = false;
  return {
    update(done: number, total: number, channel: string | null) {
      if (tty) {
        const width = 30;
        const full = total === 0 ? width : Math.round((done / total) * width);
        process.stderr.write(
          `\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} channels${channel ? `  ${label(channel)}` : ''}\x1b[K`,
        );
        drawn = true;
      } else if (channel) process.stderr.write(`parley: channel ${done}/${total} ${label(channel)}\n`);
    },
    end() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

/** What a report says of the people an import created: authors until they claim their history. */
export const CREATED_USERS =
  'People created by the import have no account yet: each is claimed by whoever signs up with the ' +
  'email address they had there, confirms it and joins the workspace (docs/moving.md).';

/** Why an imported person's @name is not their old one, as a report line ends. */
export function renamedWhy(n: { wanted: string; username: string | null; reason: string; held_by?: string }): string {
  const to = n.username === null ? 'no username (not a valid one)' : `@${n.username}`;
  const why =
    n.reason === 'taken'
      ? `: a ${n.held_by === 'group' ? 'user group' : 'user'} has @${n.wanted}`
      : n.reason === 'reserved'
        ? ': reserved'
        : '';
  return `${to}${why}`;
}

/**
 * What `parley import slack` and `parley import mattermost` share: the export read within its
 * limits before the database is opened (a bomb or a broken zip touches nothing), the progress on
 * stderr, a dry run's problems as its answer (exit 1, like `mmctl import validate`), and the
 * report on stdout (`--json`: as the server gives it).
 *
 * On PGlite, when a server owns the data folder, the export goes to it (`POST
 * /v1/admin/imports/{source}`, the same importer in that process) and its progress comes back;
 * otherwise the command takes the folder's lock and imports itself. On PostgreSQL it imports
 * itself, its one transaction beside any servers.
 */
import type { Config, Database, ExportArchive, ExportLimits } from '@parley/server';
import { parseSize, type Values } from './args.js';
import { CliError } from './errors.js';
import { ApiError, withData } from './reach.js';
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
  /** More of the import's query through a server (`team` for Mattermost). */
  query?: Record<string, string>;
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
  /** A refused export: a dry run's answer (exit 1), or the import's failure. */
  const refused = (problems: { file: string; reason: string }[]): ImportOutcome => {
    if (!dryRun) throw new CliError(new server.ExportRefusedError(problems).message);
    return {
      code: 1,
      out: values.json
        ? JSON.stringify({ dry_run: true, problems })
        : [
            `Dry run: the export has ${problems.length} problem${problems.length === 1 ? '' : 's'}; it would be refused:`,
            ...problems.map((p) => `  ${p.file}: ${p.reason}`),
          ].join('\n'),
    };
  };
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
        return refused(e.problems);
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
  return withData(s, `import ${cmd.source}`, {
    direct: work,
    api: async (api) => {
      // Read here for its limits already; the server reads it again, within the same limits.
      await archive.close();
      const query = new URLSearchParams({ workspace, ...(dryRun ? { dry_run: 'true' } : {}), ...cmd.query });
      const bar = progress(cmd.channel);
      let last: ServerLine | null = null;
      try {
        await api.upload(`/v1/admin/imports/${cmd.source}?${query}`, values.file as string, (line) => {
          const l = line as ServerLine;
          if (l.type === 'progress') bar.update(l.done, l.total, l.channel);
          else last = l;
        });
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) throw new CliError(`no workspace with id ${workspace}`);
        throw e;
      } finally {
        bar.end();
      }
      const end = last as ServerLine | null;
      if (end?.type === 'report')
        return { code: 0, out: values.json ? JSON.stringify(end.report) : cmd.describe(end.report as R) };
      if (end?.type === 'refused') return refused(end.problems);
      if (end?.type === 'error') throw new CliError(end.error.message);
      throw new CliError('the server ended the import without a report (see its log)');
    },
  });
}

/** A line of the server's answer to an import (features/imports/routes.ts). */
type ServerLine =
  | { type: 'progress'; done: number; total: number; channel: string | null }
  | { type: 'report'; report: unknown }
  | { type: 'refused'; problems: { file: string; reason: string }[] }
  | { type: 'error'; error: { code: string; message: string } };

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

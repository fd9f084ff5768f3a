/**
 * `parley import slack <export.zip> --workspace ID`: read the zip, open the database directly
 * and hand both to the server's importer (features/imports/slack.ts), drawing progress on
 * stderr and printing the report on stdout.
 *
 * Directly, never through a running server: the importer writes rows with their original
 * times and ids, which no API takes. On PGlite the data folder's lock keeps a server from
 * starting meanwhile, and a server already running on it is refused with word to stop it.
 * On PostgreSQL (DATABASE_URL) the import runs beside any servers: the whole import is one
 * transaction that takes each channel's seqs under the channel's row lock, as a send does.
 *
 * The zip is read as a stream within limits (server features/imports/zip.ts), and the whole
 * export is checked before anything is written: a bad export is refused with every problem.
 */
import type { ExportArchive, ExportLimits, ImportReport } from '@parley/server';
import { parseSize, type Values } from './args.js';
import { CliError } from './errors.js';
import { describeOwner } from './owner-lock.js';
import { takeFolder } from './reach.js';
import { cliEnv, settings } from './settings.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What `parley import slack` prints on stdout and exits with. */
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

export async function importSlack(values: Values): Promise<ImportOutcome> {
  const workspace = values.workspace as string;
  if (!UUID.test(workspace)) throw new CliError(`no workspace with id ${workspace}`);
  const server = await import('@parley/server');
  const dryRun = !!values['dry-run'];
  const s = settings(values);
  const cfg = server.configFromEnv(cliEnv(values));
  // The zip is read (within its limits, every entry inflated and counted) before the database
  // is opened: a bomb or a broken zip is refused without touching it.
  let archive: ExportArchive;
  try {
    archive = await server.openExportZip(values.file as string, exportLimits(values, server.DEFAULT_EXPORT_LIMITS), {
      maxFileBytes: cfg.uploadMaxBytes,
    });
  } catch (e) {
    if (e instanceof server.ImportInputError) throw new CliError(e.message);
    throw e;
  }
  const work = async (): Promise<ImportOutcome> => {
    // The file store the server uses (the data folder's `files`, or S3), for files the export holds.
    const { store } = server.createStorage(cfg, server.loadMasterKey(cfg.masterKey, cfg.dataDir));
    const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
    const bar = progress();
    try {
      await server.runMigrations(database);
      const report = await server.importSlackExport(database, workspace, archive, {
        dryRun,
        onProgress: bar.update,
        store,
        maxFileBytes: cfg.uploadMaxBytes,
      });
      return { code: 0, out: values.json ? JSON.stringify(report) : describeReport(report) };
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
  const lock = await takeFolder(
    s,
    { kind: 'command', command: 'import slack' },
    (owner) =>
      `${s.dataDir} is in use by ${describeOwner(owner)}; stop the server (parley import slack writes to the ` +
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
function progress() {
  const tty = process.stderr.isTTY;
  let drawn = false;
  return {
    update(done: number, total: number, channel: string | null) {
      if (tty) {
        const width = 30;
        const full = total === 0 ? width : Math.round((done / total) * width);
        process.stderr.write(
          `\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} channels${channel ? `  #${channel}` : ''}\x1b[K`,
        );
        drawn = true;
      } else if (channel) process.stderr.write(`parley: channel ${done}/${total} #${channel}\n`);
    },
    end() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

export function describeReport(r: ImportReport): string {
  const lines = [
    r.dry_run ? 'Dry run: nothing was written. It would import:' : 'Imported:',
    `  users:     ${r.users.matched} matched by email, ${r.users.created} created, ${r.users.existing} already there, ${r.users.bots} bots`,
    `  channels:  ${r.channels.imported} new, ${r.channels.existing} already there (${r.channels.archived} archived; ` +
      `${r.channels.private} private, ${r.channels.group_dms} group DMs, ${r.channels.dms} DMs)`,
    `  messages:  ${r.messages.imported} (${r.messages.replies} thread replies, ${r.messages.system} system notes); ${r.messages.existing} already imported`,
    `  reactions: ${r.reactions}   pins: ${r.pins}   files: ${r.files.attached} attached, ${r.files.skipped} skipped`,
  ];
  if (r.users.deactivated.length > 0)
    lines.push(`Deactivated in Slack (kept as authors, no account, cannot sign in): ${r.users.deactivated.join(', ')}`);
  if (r.users.created > 0)
    lines.push('Users created by the import have no account: they appear as authors but cannot sign in.');
  if (r.users.renamed.length > 0) {
    // A Slack name taken here (by a user or a user group, any case) or reserved: @name is one thing.
    lines.push(`Not their Slack name (${r.users.renamed.length}): an @name names one user or one group here`);
    for (const n of r.users.renamed.slice(0, 50))
      lines.push(
        `  @${n.wanted} (${n.slack_id}) → ${n.username === null ? 'no username (not a valid one)' : `@${n.username}`}${
          n.reason === 'taken'
            ? `: a ${n.held_by === 'group' ? 'user group' : 'user'} has @${n.wanted}`
            : n.reason === 'reserved'
              ? ': reserved'
              : ''
        }`,
      );
    if (r.users.renamed.length > 50) lines.push(`  … and ${r.users.renamed.length - 50} more (--json lists all)`);
  }
  if (r.reordered.length > 0)
    lines.push(
      `Put in time order (older messages filled a gap; clients reload these channels): ${r.reordered.join(', ')}`,
    );
  if (r.skipped.total > 0) {
    lines.push(`Skipped ${r.skipped.total}:`);
    for (const [reason, n] of Object.entries(r.skipped.by_reason)) lines.push(`  ${n}  ${reason}`);
    for (const s of r.skipped.items.slice(0, 50))
      lines.push(`    #${s.channel}${s.ts ? ` ${s.ts}` : ''}: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
    if (r.skipped.items.length > 50) lines.push(`    … and ${r.skipped.items.length - 50} more (--json lists all)`);
  }
  return lines.join('\n');
}

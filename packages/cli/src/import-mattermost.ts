/**
 * `parley import mattermost <export.zip|import.jsonl> --workspace ID [--team NAME]`: read the
 * export, open the database directly and hand both to the server's importer
 * (features/imports/mattermost.ts), drawing progress on stderr and printing the report on stdout.
 *
 * It runs as `parley import slack` does (import-slack.ts): the same flags, limits, exit codes and
 * output; directly, never through a running server (the importer writes rows with their original
 * times and ids, which no API takes). On PGlite the data folder's lock keeps a server from
 * starting meanwhile; on PostgreSQL the one transaction runs beside any servers.
 */
import type { ExportArchive, MattermostImportReport } from '@parley/server';
import type { Values } from './args.js';
import { CliError } from './errors.js';
import { exportLimits, type ImportOutcome } from './import-slack.js';
import { describeOwner } from './owner-lock.js';
import { takeFolder } from './reach.js';
import { cliEnv, settings } from './settings.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function importMattermost(values: Values): Promise<ImportOutcome> {
  const workspace = values.workspace as string;
  if (!UUID.test(workspace)) throw new CliError(`no workspace with id ${workspace}`);
  const server = await import('@parley/server');
  const dryRun = !!values['dry-run'];
  const s = settings(values);
  const cfg = server.configFromEnv(cliEnv(values));
  // Read within its limits before the database is opened: a bomb or a broken zip touches nothing.
  let archive: ExportArchive;
  try {
    archive = await server.openMattermostExport(
      values.file as string,
      exportLimits(values, server.DEFAULT_EXPORT_LIMITS),
    );
  } catch (e) {
    if (e instanceof server.ImportInputError) throw new CliError(e.message);
    throw e;
  }
  const work = async (): Promise<ImportOutcome> => {
    const { store } = server.createStorage(cfg, server.loadMasterKey(cfg.masterKey, cfg.dataDir));
    const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
    const bar = progress();
    try {
      await server.runMigrations(database);
      const report = await server.importMattermostExport(database, workspace, archive, {
        dryRun,
        team: typeof values.team === 'string' ? values.team : undefined,
        onProgress: bar.update,
        store,
        maxFileBytes: cfg.uploadMaxBytes,
        publicUrl: cfg.publicUrl,
      });
      return { code: 0, out: values.json ? JSON.stringify(report) : describeMattermostReport(report) };
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
    { kind: 'command', command: 'import mattermost' },
    (owner) =>
      `${s.dataDir} is in use by ${describeOwner(owner)}; stop the server (parley import mattermost writes to the ` +
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

/** A bar on a terminal, a line a conversation otherwise (both on stderr, so --json stays clean). */
function progress() {
  const tty = process.stderr.isTTY;
  let drawn = false;
  return {
    update(done: number, total: number, channel: string | null) {
      if (tty) {
        const width = 30;
        const full = total === 0 ? width : Math.round((done / total) * width);
        process.stderr.write(
          `\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} channels${channel ? `  ${channel}` : ''}\x1b[K`,
        );
        drawn = true;
      } else if (channel) process.stderr.write(`parley: channel ${done}/${total} ${channel}\n`);
    },
    end() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

export function describeMattermostReport(r: MattermostImportReport): string {
  const lines = [
    r.dry_run
      ? `Dry run: nothing was written. It would import${r.team ? ` team ${r.team}` : ''}:`
      : `Imported${r.team ? ` team ${r.team}` : ''}:`,
    `  users:     ${r.users.matched} matched by email, ${r.users.created} created, ${r.users.existing} already there, ${r.users.bots} bots`,
    `  channels:  ${r.channels.imported} new, ${r.channels.existing} already there (${r.channels.archived} archived; ` +
      `${r.channels.private} private, ${r.channels.group_dms} group DMs, ${r.channels.dms} DMs)`,
    `  messages:  ${r.messages.imported} (${r.messages.replies} thread replies, ${r.messages.system} system notes); ${r.messages.existing} already imported`,
    `  reactions: ${r.reactions}   pins: ${r.pins}   files: ${r.files.attached} attached, ${r.files.skipped} skipped`,
  ];
  if (r.users.pictures > 0) lines.push(`  pictures:  ${r.users.pictures} profile pictures`);
  if (r.saved > 0) lines.push(`  saved:     ${r.saved} flagged posts, saved for the people who flagged them`);
  if (r.emoji.imported + r.emoji.existing > 0)
    lines.push(`  emoji:     ${r.emoji.imported} custom emoji, ${r.emoji.existing} already there`);
  if (r.users.deactivated.length > 0)
    lines.push(
      `Deactivated in Mattermost (kept as authors, no account, cannot sign in): ${r.users.deactivated.join(', ')}`,
    );
  if (r.users.created > 0)
    lines.push('Users created by the import have no account: they appear as authors but cannot sign in.');
  if (r.users.renamed.length > 0) {
    lines.push(`Not their Mattermost username (${r.users.renamed.length}): an @name names one user or one group here`);
    for (const n of r.users.renamed.slice(0, 50))
      lines.push(
        `  @${n.wanted} → ${n.username === null ? 'no username (not a valid one)' : `@${n.username}`}${
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
      `Put in time order (older posts filled a gap; clients reload these channels): ${r.reordered.join(', ')}`,
    );
  if (r.skipped.total > 0) {
    lines.push(`Skipped ${r.skipped.total}:`);
    for (const [reason, n] of Object.entries(r.skipped.by_reason)) lines.push(`  ${n}  ${reason}`);
    for (const k of r.skipped.items.slice(0, 50))
      lines.push(
        `    ${k.channel || '(export)'}${k.at ? ` ${k.at}` : ''}: ${k.reason}${k.detail ? ` (${k.detail})` : ''}`,
      );
    if (r.skipped.items.length > 50) lines.push(`    … and ${r.skipped.items.length - 50} more (--json lists all)`);
  }
  return lines.join('\n');
}

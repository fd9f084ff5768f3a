/**
 * `parley import slack <export.zip> --workspace ID`: read the zip, open the database directly
 * and hand both to the server's importer (features/imports/slack.ts), drawing progress on
 * stderr and printing the report on stdout.
 *
 * Directly, never through a running server: the importer writes rows with their original
 * times and ids, which no API takes. On PGlite the data folder's lock keeps a server from
 * starting meanwhile, and a server already running on it is refused with word to stop it.
 * On PostgreSQL (DATABASE_URL) the import runs beside any servers: each channel is one
 * transaction that takes its seqs under the channel's row lock, as a send does.
 */
import { readFileSync } from 'node:fs';
import type { ImportReport } from '@parley/server';
import { unzipSync } from 'fflate';
import type { Values } from './args.js';
import { CliError } from './errors.js';
import { describeOwner } from './owner-lock.js';
import { takeFolder } from './reach.js';
import { cliEnv, settings } from './settings.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The zip's entries (path → bytes); a clear error for anything that is not a readable zip. */
export function readZip(file: string): Map<string, Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `no file ${file}` : `cannot read ${file} (${code ?? 'error'})`);
  }
  // "PK\x03\x04" (or an empty archive's "PK\x05\x06").
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new CliError(`${file} is not a zip file`);
  try {
    return new Map(Object.entries(unzipSync(bytes)));
  } catch (e) {
    throw new CliError(`${file} is not a readable zip file (${(e as Error).message})`);
  }
}

export async function importSlack(values: Values): Promise<{ report: ImportReport; text: string }> {
  const workspace = values.workspace as string;
  if (!UUID.test(workspace)) throw new CliError(`no workspace with id ${workspace}`);
  const files = readZip(values.file as string);
  const s = settings(values);
  const work = async () => {
    const server = await import('@parley/server');
    const cfg = server.configFromEnv(cliEnv(values));
    // The file store the server uses (the data folder's `files`, or S3), for files the export holds.
    const { store } = server.createStorage(cfg, server.loadMasterKey(cfg.masterKey, cfg.dataDir));
    const database = await server.openDatabase({ url: cfg.databaseUrl, dataDir: cfg.dataDir });
    const bar = progress();
    try {
      await server.runMigrations(database);
      return await server.importSlackExport(database, workspace, files, {
        dryRun: !!values['dry-run'],
        onProgress: bar.update,
        store,
        maxFileBytes: cfg.uploadMaxBytes,
      });
    } catch (e) {
      if (e instanceof server.ImportInputError) throw new CliError(e.message);
      throw e;
    } finally {
      bar.end();
      await database.close();
    }
  };
  let report: ImportReport;
  if (s.databaseUrl) report = await work();
  else {
    const lock = await takeFolder(
      s,
      { kind: 'command', command: 'import slack' },
      (owner) =>
        `${s.dataDir} is in use by ${describeOwner(owner)}; stop the server (parley import slack writes to the ` +
        'data folder directly), then run the import again',
    );
    try {
      report = await work();
    } finally {
      lock.release();
    }
  }
  return { report, text: describeReport(report) };
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
    },
  };
}

export function describeReport(r: ImportReport): string {
  const lines = [
    r.dry_run ? 'Dry run: nothing was written. It would import:' : 'Imported:',
    `  users:     ${r.users.matched} matched by email, ${r.users.created} created, ${r.users.existing} already there, ${r.users.bots} bots`,
    `  channels:  ${r.channels.imported} new, ${r.channels.existing} already there (${r.channels.archived} archived)`,
    `  messages:  ${r.messages.imported} (${r.messages.replies} thread replies, ${r.messages.system} system notes); ${r.messages.existing} already imported`,
    `  reactions: ${r.reactions}   pins: ${r.pins}   files: ${r.files.attached} attached, ${r.files.skipped} skipped`,
  ];
  if (r.users.deactivated.length > 0)
    lines.push(`Deactivated in Slack (kept as authors, no account, cannot sign in): ${r.users.deactivated.join(', ')}`);
  if (r.users.created > 0)
    lines.push('Users created by the import have no account: they appear as authors but cannot sign in.');
  if (r.skipped.total > 0) {
    lines.push(`Skipped ${r.skipped.total}:`);
    for (const [reason, n] of Object.entries(r.skipped.by_reason)) lines.push(`  ${n}  ${reason}`);
    for (const s of r.skipped.items.slice(0, 50))
      lines.push(`    #${s.channel}${s.ts ? ` ${s.ts}` : ''}: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
    if (r.skipped.items.length > 50) lines.push(`    … and ${r.skipped.items.length - 50} more (--json lists all)`);
  }
  return lines.join('\n');
}

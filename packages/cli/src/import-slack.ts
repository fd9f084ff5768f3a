/**
 * `parley import slack <export.zip> --workspace ID`: read the zip, open the database directly
 * and hand both to the server's importer (features/imports/slack.ts), as import-run.ts runs
 * every import. On PostgreSQL (DATABASE_URL) the whole import is one transaction that takes each
 * channel's seqs under the channel's row lock, as a send does.
 *
 * The zip is read as a stream within limits (server features/imports/zip.ts), and the whole
 * export is checked before anything is written: a bad export is refused with every problem.
 */
import type { ImportReport } from '@parley/server';
import type { Values } from './args.js';
import { CREATED_USERS, type ImportOutcome, renamedWhy, runImport } from './import-run.js';

export function importSlack(values: Values): Promise<ImportOutcome> {
  return runImport(values, {
    source: 'slack',
    open: (server, file, limits, cfg) => server.openExportZip(file, limits, { maxFileBytes: cfg.uploadMaxBytes }),
    run: (server, database, workspace, archive, o) =>
      server.importSlackExport(database, workspace, archive, {
        dryRun: o.dryRun,
        onProgress: o.onProgress,
        store: o.store,
        maxFileBytes: o.cfg.uploadMaxBytes,
        publicUrl: o.cfg.publicUrl,
      }),
    describe: describeReport,
    channel: (name) => `#${name}`,
  });
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
  if (r.users.pictures > 0) lines.push(`  pictures:  ${r.users.pictures} profile pictures`);
  if (r.emoji.imported + r.emoji.existing > 0)
    lines.push(`  emoji:     ${r.emoji.imported} custom emoji, ${r.emoji.existing} already there`);
  if (r.users.deactivated.length > 0)
    lines.push(`Deactivated in Slack (kept as authors, not claimable): ${r.users.deactivated.join(', ')}`);
  if (r.users.created > 0) lines.push(CREATED_USERS);
  if (r.users.renamed.length > 0) {
    // A Slack name taken here (by a user or a user group, any case) or reserved: @name is one thing.
    lines.push(`Not their Slack name (${r.users.renamed.length}): an @name names one user or one group here`);
    for (const n of r.users.renamed.slice(0, 50)) lines.push(`  @${n.wanted} (${n.slack_id}) → ${renamedWhy(n)}`);
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

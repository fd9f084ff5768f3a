/**
 * `parley import mattermost <export.zip|import.jsonl> --workspace ID [--team NAME]`: read the
 * export, open the database directly and hand both to the server's importer
 * (features/imports/mattermost.ts), drawing progress on stderr and printing the report on stdout.
 *
 * It runs as `parley import slack` does (import-run.ts): the same flags, limits, exit codes and
 * output, through a running server that owns the data folder, and `--team NAME` to pick the team.
 */
import type { MattermostImportReport } from '@parley/server';
import type { Values } from './args.js';
import { CREATED_USERS, type ImportOutcome, renamedWhy, runImport } from './import-run.js';

export function importMattermost(values: Values): Promise<ImportOutcome> {
  return runImport(values, {
    source: 'mattermost',
    open: (server, file, limits) => server.openMattermostExport(file, limits),
    run: (server, database, workspace, archive, o) =>
      server.importMattermostExport(database, workspace, archive, {
        dryRun: o.dryRun,
        team: typeof values.team === 'string' ? values.team : undefined,
        onProgress: o.onProgress,
        store: o.store,
        maxFileBytes: o.cfg.uploadMaxBytes,
        publicUrl: o.cfg.publicUrl,
      }),
    describe: describeMattermostReport,
    channel: (name) => name,
    query: typeof values.team === 'string' ? { team: values.team } : {},
  });
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
    lines.push(`Deactivated in Mattermost (kept as authors, not claimable): ${r.users.deactivated.join(', ')}`);
  if (r.users.created > 0) lines.push(CREATED_USERS);
  if (r.users.renamed.length > 0) {
    lines.push(`Not their Mattermost username (${r.users.renamed.length}): an @name names one user or one group here`);
    for (const n of r.users.renamed.slice(0, 50)) lines.push(`  @${n.wanted} → ${renamedWhy(n)}`);
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

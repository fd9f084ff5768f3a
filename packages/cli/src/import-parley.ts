/**
 * `parley import parley <workspace.zip> --workspace ID`: load a workspace export in Parley's own
 * format (made by `parley export` on this or another deployment) into a workspace, through the
 * server's importer (features/imports/parley.ts). It runs as `parley import slack` does
 * (import-run.ts): the same flags, limits, exit codes and output, through a running server that
 * owns the data folder.
 */
import type { ParleyImportReport } from '@parley/server';
import type { Values } from './args.js';
import { type ImportOutcome, runImport } from './import-run.js';

export function importParley(values: Values): Promise<ImportOutcome> {
  return runImport(values, {
    source: 'parley',
    open: (server, file, limits, cfg) => server.openExportZip(file, limits, { maxFileBytes: cfg.uploadMaxBytes }),
    run: (server, database, workspace, archive, o) =>
      server.importParleyExport(database, workspace, archive, {
        dryRun: o.dryRun,
        onProgress: o.onProgress,
        store: o.store,
        // Carried pictures are served here: the public URL, else the address the server listens at.
        publicUrl: server.publicUrl(o.cfg),
      }),
    describe: describeParleyReport,
    channel: (kind) => kind,
  });
}

export function describeParleyReport(r: ParleyImportReport): string {
  const kinds = Object.keys(r.imported) as (keyof ParleyImportReport['imported'])[];
  const width = Math.max(...kinds.map((k) => k.length)) + 1;
  const lines = [
    `${r.dry_run ? 'Dry run: nothing was written. It would import' : 'Imported'} workspace "${r.source.name}" ` +
      `(${r.source.workspace_id}, exported ${r.source.exported_at}, format version ${r.version}):`,
    ...kinds.map(
      (k) => `  ${`${k}:`.padEnd(width + 1)} ${r.imported[k]} new, ${r.existing[k]} already there (left as they are)`,
    ),
    `  file bytes: ${r.file_bytes}`,
    `  settings:   ${r.settings ? "the archive's (join policy, two-factor rule, upload rules, permissions, automod)" : 'unchanged'}`,
  ];
  if (r.claims > 0)
    lines.push(
      `People who may claim their history (${r.claims}): an account with the address they had, confirmed, joining the workspace becomes them.`,
    );
  if (r.renamed.length > 0) {
    lines.push(`Not their username there (${r.renamed.length}): an @name names one user or one group here`);
    for (const n of r.renamed.slice(0, 50))
      lines.push(
        `  @${n.wanted} → @${n.username} (${n.reason === 'reserved' ? 'a reserved word' : `taken by a ${n.held_by ?? 'user'}`})`,
      );
    if (r.renamed.length > 50) lines.push(`  … and ${r.renamed.length - 50} more (--json lists all)`);
  }
  const groups = r.renamed_groups ?? [];
  if (groups.length > 0) {
    lines.push(`User groups not under their handle there (${groups.length}): an @name is taken here`);
    for (const g of groups.slice(0, 50))
      lines.push(
        `  @${g.wanted} → @${g.handle} (${g.reason === 'reserved' ? 'a reserved word' : `taken by a ${g.held_by ?? 'user'}`})`,
      );
    if (groups.length > 50) lines.push(`  … and ${groups.length - 50} more (--json lists all)`);
  }
  return lines.join('\n');
}

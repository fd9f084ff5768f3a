/** A mistake in the input the operator must fix: nothing was written. */
export class ImportInputError extends Error {}

/** One thing wrong with an export: the file it is in (or the entry) and why. */
export interface ExportProblem {
  file: string;
  reason: string;
}

/**
 * The export has problems (every one listed, file and reason): it is refused as a whole and
 * nothing was written.
 */
export class ExportRefusedError extends ImportInputError {
  constructor(readonly problems: ExportProblem[]) {
    super(
      `the export has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was imported:\n${problems
        .map((p) => `  ${p.file}: ${p.reason}`)
        .join('\n')}`,
    );
    this.name = 'ExportRefusedError';
  }
}

/**
 * A Vitest reporter that ends a run with its slowest test files (time per file and project), so
 * a CI log says where the minutes went. On with `CI` set (`.ci/run`); `PARLEY_SLOWEST=N` shows
 * N rows (default 20).
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SlowestFiles implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = modules
      .map((m) => ({ ms: m.diagnostic().duration, file: m.relativeModuleId, project: m.project.name }))
      .sort((a, b) => b.ms - a.ms);
    if (rows.length === 0) return;
    const n = Number(process.env.PARLEY_SLOWEST) || 20;
    const total = rows.reduce((a, r) => a + r.ms, 0);
    const lines = rows
      .slice(0, n)
      .map((r) => `${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.project.padEnd(16)} ${r.file}`);
    process.stdout.write(
      `\nSlowest test files (of ${rows.length}, ${(total / 1000).toFixed(0)} s of file time in all):\n${lines.join('\n')}\n`,
    );
  }
}

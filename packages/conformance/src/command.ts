/**
 * The command, whichever name runs it: `parley-conformance` (main.ts, this package's bin) and
 * `parley conformance` (@parley/cli) both call `conformance()` with what their command lines
 * gave. It checks the options, reads the kit once, runs it (run.ts) and prints one line per
 * scenario as it finishes, then a summary. Exit 0 when all pass, 1 when any fails.
 */
import { loadKit, type Outcome, runKit } from './run.js';

/** The command line is wrong (exit 2 in both commands). */
export class ConformanceUsageError extends Error {}

/** An expected failure with a message for the person running it, such as a server that does not answer (exit 1). */
export class ConformanceError extends Error {}

/** What a command line gave, as parsed by the command that runs the kit. */
export interface ConformanceOptions {
  /** The command's name, which messages about the command line start with (`parley conformance`). */
  name: string;
  url?: string | undefined;
  adapter?: string | undefined;
  /** Scenario names, comma-separated. */
  scenario?: string | undefined;
  json?: boolean | undefined;
  /**
   * The operator's admin token, asked for once the command line is known to be right: each
   * command has its own place for it (an option, PARLEY_ADMIN_TOKEN, a data folder).
   */
  adminToken: () => string;
  /** Where lines go (default: stdout). */
  write?: (line: string) => void;
}

/** Run the kit as the command line says; the exit code. Throws the two errors above. */
export async function conformance(o: ConformanceOptions): Promise<number> {
  const write = o.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (typeof o.url !== 'string' || !o.url) throw new ConformanceUsageError(`${o.name}: --url URL is required`);
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new ConformanceUsageError(`${o.name}: --url ${o.url} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConformanceUsageError(`${o.name}: --url must be http:// or https://, not ${url.protocol}`);
  const only = o.scenario ? o.scenario.split(',').map((n) => n.trim()) : [];
  const kit = loadKit();
  const known = new Set([...kit.wire, ...kit.sdk].map((x) => x.name));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length)
    throw new ConformanceUsageError(`${o.name}: no scenario named ${unknown.map((n) => `'${n}'`).join(', ')}`);
  const adminToken = o.adminToken();
  const base = url.toString().replace(/\/$/, '');
  const health = await fetch(`${base}/healthz`).catch((e: Error) => e);
  if (health instanceof Error) throw new ConformanceError(`nothing answers at ${base}: ${health.message}`);

  const line = (x: Outcome) =>
    x.ok
      ? `✓ ${x.kind} ${x.scenario} (${x.ms} ms)`
      : `✗ ${x.kind} ${x.scenario}: step ${x.failure?.step} [${x.failure?.rule}] ${x.failure?.message}`;
  const outcomes = await runKit(
    { url: base, adminToken },
    {
      ...(o.adapter ? { adapter: o.adapter } : {}),
      kit,
      only,
      onOutcome: (x) => write(o.json ? JSON.stringify(x) : line(x)),
    },
  );
  const failed = outcomes.filter((x) => !x.ok).length;
  if (!o.json)
    write(
      `${outcomes.length - failed} of ${outcomes.length} scenarios passed${o.adapter ? '' : ' (wire only: --adapter runs the SDK ones)'}`,
    );
  return failed ? 1 : 0;
}

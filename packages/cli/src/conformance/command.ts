/**
 * `parley conformance --url URL [--adapter COMMAND] [--scenario NAMES] [--json]`: the kit's
 * scenarios against a running server (run.ts), one line per scenario as it finishes, and a
 * summary. Exit 0 when all pass, 1 when any fails.
 */
import type { Values } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { adminToken, type Settings } from '../settings.js';
import { loadScenarios, type Outcome, runKit } from './run.js';

export async function conformance(values: Values, s: Settings): Promise<number> {
  const raw = values.url;
  if (typeof raw !== 'string' || !raw) throw new UsageError('parley conformance: --url URL is required');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`parley conformance: --url ${raw} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`parley conformance: --url must be http:// or https://, not ${url.protocol}`);
  const only = typeof values.scenario === 'string' ? values.scenario.split(',').map((n) => n.trim()) : [];
  const known = new Set([...loadScenarios('wire'), ...loadScenarios('sdk')].map((x) => x.name));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length)
    throw new UsageError(`parley conformance: no scenario named ${unknown.map((n) => `'${n}'`).join(', ')}`);
  const token = adminToken(s);
  const base = url.toString().replace(/\/$/, '');
  const health = await fetch(`${base}/healthz`).catch((e: Error) => e);
  if (health instanceof Error) throw new CliError(`nothing answers at ${base}: ${health.message}`);

  const adapter = typeof values.adapter === 'string' ? values.adapter : undefined;
  const line = (o: Outcome) =>
    o.ok
      ? `✓ ${o.kind} ${o.scenario} (${o.ms} ms)`
      : `✗ ${o.kind} ${o.scenario}: step ${o.failure?.step} [${o.failure?.rule}] ${o.failure?.message}`;
  const outcomes = await runKit(
    { url: base, adminToken: token },
    {
      ...(adapter ? { adapter } : {}),
      only,
      onOutcome: (o) => process.stdout.write(`${values.json ? JSON.stringify(o) : line(o)}\n`),
    },
  );
  const failed = outcomes.filter((o) => !o.ok).length;
  if (!values.json) {
    process.stdout.write(
      `${outcomes.length - failed} of ${outcomes.length} scenarios passed${adapter ? '' : ' (wire only: --adapter runs the SDK ones)'}\n`,
    );
  }
  return failed ? 1 : 0;
}

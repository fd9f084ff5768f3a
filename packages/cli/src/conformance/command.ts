/**
 * `parley conformance --url URL [--adapter COMMAND] [--scenario NAMES] [--json]`: the command of
 * @parley/conformance (its `parley-conformance` bin), with the CLI's admin token (--data,
 * PARLEY_ADMIN_TOKEN) and its errors (exit 2 for the command line, 1 for the rest).
 */
import { ConformanceError, ConformanceUsageError, conformance as runCommand } from '@parley/conformance';
import type { Values } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { adminToken, type Settings } from '../settings.js';

export async function conformance(values: Values, s: Settings): Promise<number> {
  try {
    return await runCommand({
      name: 'parley conformance',
      url: typeof values.url === 'string' ? values.url : undefined,
      adapter: typeof values.adapter === 'string' ? values.adapter : undefined,
      scenario: typeof values.scenario === 'string' ? values.scenario : undefined,
      json: values.json === true,
      adminToken: () => adminToken(s),
    });
  } catch (e) {
    if (e instanceof ConformanceUsageError) throw new UsageError(e.message);
    if (e instanceof ConformanceError) throw new CliError(e.message);
    throw e;
  }
}

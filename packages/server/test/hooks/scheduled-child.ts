/**
 * A real server process for the scheduled-message crash test: `startServer` from the
 * environment, hooks allowed to reach the test's receiver (`HOOK_ALLOW`, a `host:port`).
 * Prints `{"ready": url}` once listening.
 */
import { configFromEnv, startServer } from '@parley/server';

const s = await startServer(
  configFromEnv(process.env, {
    port: 0,
    // Warnings and errors only: the fixture prints them when a test fails.
    logLevel: 'warn',
    webhookAllowHosts: process.env.HOOK_ALLOW ? [process.env.HOOK_ALLOW] : [],
  }),
  { handleSignals: true },
);
process.stdout.write(`${JSON.stringify({ ready: s.url })}\n`);

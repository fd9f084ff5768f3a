/**
 * Start one real Parley server for the run: `parley start` on a temporary data folder and a free
 * loopback port (embedded PGlite, as a developer's first start). Each test file makes its own
 * app on it (a tenant of its own). Where it runs is handed to the tests in the environment.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'packages/cli/bin/parley.mjs');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

module.exports = async () => {
  const port = await freePort();
  const data = mkdtempSync(path.join(tmpdir(), 'parley-rn-'));
  const admin = `rn-admin-${randomBytes(12).toString('hex')}`;
  const env = {
    ...process.env,
    LOG_LEVEL: 'warn',
    PARLEY_ADMIN_TOKEN: admin,
    PARLEY_JOB_POLL_MS: '200',
    // A user who just left is still present for a few seconds: their push waits this grace, not 30 s.
    PARLEY_PUSH_GRACE_SECONDS: '1',
  };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'PARLEY_DATA_DIR', 'PORT', 'HOST', 'PARLEY_MASTER_KEY']) delete env[k];
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--data', data], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`parley start exited early:\n${out}`);
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    // Ready in seconds from a current build; sources newer than dist/ run through tsx and a new
    // migration makes PGlite migrate from nothing, which on a loaded machine can pass a minute.
    if (Date.now() > deadline)
      throw new Error(`parley start did not answer /healthz in 60 s (is the build current? npm run build):\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  globalThis.__PARLEY_SERVER__ = { child, data };
  process.env.PARLEY_TEST_URL = url;
  process.env.PARLEY_TEST_ADMIN_TOKEN = admin;
};

/** Stop the server of global-setup.cjs and remove its data folder. */
const { rmSync } = require('node:fs');

module.exports = async () => {
  const s = globalThis.__PARLEY_SERVER__;
  if (!s) return;
  if (s.child.exitCode === null) {
    const exited = new Promise((resolve) => s.child.once('exit', resolve));
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(s.data, { recursive: true, force: true });
};

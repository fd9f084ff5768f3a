/**
 * The disk's commit latency, measured beside a scenario: a child process that writes 8 KB
 * and fdatasyncs it (what PostgreSQL does for each WAL flush) every few milliseconds, on the
 * disk that holds the temporary folder, and reports the latency distribution. It shows how
 * much of a tail through a PostgreSQL commit is the disk's own.
 *
 *   const probe = startFsyncProbe(); … const r = await probe.stop();
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface FsyncStats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** Syncs that took longer than 50 ms. */
  over50: number;
}

const SCRIPT = `
const fs = require('node:fs');
const file = process.argv[1];
const fd = fs.openSync(file, 'w');
const buf = Buffer.alloc(8192, 1);
const lat = [];
let pos = 0, stop = false;
process.stdin.on('data', () => { stop = true; });
process.stdin.on('end', () => { stop = true; });
const deadline = Date.now() + 600000;
(function loop() {
  if (stop || Date.now() > deadline) {
    fs.closeSync(fd); fs.unlinkSync(file);
    lat.sort((a, b) => a - b);
    const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0;
    process.stdout.write(JSON.stringify({ n: lat.length, p50: q(0.5), p99: q(0.99), max: lat.at(-1) ?? 0, over50: lat.filter((x) => x > 50).length }));
    return;
  }
  const t = performance.now();
  fs.writeSync(fd, buf, 0, buf.length, pos);
  pos = (pos + 8192) % (16 * 1024 * 1024);
  fs.fdatasyncSync(fd);
  lat.push(performance.now() - t);
  setTimeout(loop, 5);
})();
`;

export function startFsyncProbe(): { stop: () => Promise<FsyncStats | null> } {
  const file = path.join(tmpdir(), `parley-bench-fsync-${process.pid}-${Date.now()}`);
  const child = spawn(process.execPath, ['-e', SCRIPT, file], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    async stop() {
      child.stdin.end('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
      try {
        return JSON.parse(out) as FsyncStats;
      } catch {
        return null;
      }
    },
  };
}

/**
 * An SDK adapter: a child process, in any language, that drives its SDK for the conformance
 * runner. One JSON object per line each way (conformance/README.md, "SDK adapters"): the runner
 * writes `{"id": n, "op": …}`, the adapter answers `{"id": n, "ok": true, …}` or
 * `{"id": n, "ok": false, "error": {"code", "message"}}`. Anything else it prints to stdout is
 * a protocol error; its stderr is passed through for the developer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Json } from './match.js';

/** An `ok: false` answer: the SDK's own error, with its code. */
export class AdapterError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A running adapter: requests out, answers matched back by id. */
export class Adapter {
  private readonly proc: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private exited: string | null = null;

  /** Start `command` (run by the shell, as given on the command line). */
  constructor(command: string, env: NodeJS.ProcessEnv = process.env) {
    this.proc = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'inherit'], env });
    const lines = createInterface({ input: this.proc.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => this.answer(line));
    this.proc.on('exit', (code, signal) => {
      this.exited = `the adapter exited (${code ?? signal})`;
      for (const w of this.waiting.values()) w.reject(new Error(this.exited));
      this.waiting.clear();
    });
    this.proc.on('error', (err) => {
      this.exited = `the adapter could not start: ${err.message}`;
    });
  }

  private answer(line: string): void {
    if (!line.trim()) return;
    let msg: Json;
    try {
      msg = JSON.parse(line);
    } catch {
      this.fail(`the adapter printed a line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    const w = this.waiting.get(msg?.id);
    if (!w) {
      this.fail(`the adapter answered an id nobody asked: ${line.slice(0, 200)}`);
      return;
    }
    this.waiting.delete(msg.id);
    if (msg.ok === true) w.resolve(msg);
    else w.reject(new AdapterError(String(msg.error?.code ?? 'ERROR'), String(msg.error?.message ?? 'failed')));
  }

  private fail(why: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(why));
    this.waiting.clear();
  }

  /** Send one request; its answer, or a rejection after `timeoutMs`. */
  request(op: string, args: Record<string, unknown>, timeoutMs = 20_000): Promise<Json> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the adapter did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.stdin?.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Ask it to disconnect every client and exit; killed if it has not within 5 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    await this.request('quit', {}, 5_000).catch(() => {});
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

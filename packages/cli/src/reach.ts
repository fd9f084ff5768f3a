/**
 * How `app`, `token` and `import` reach the data: through the admin API of the server that owns the
 * data folder, or — only when nobody owns it — by opening the database themselves, holding
 * the folder's lock while they do.
 *
 * - PGlite (no DATABASE_URL): the owner is read from `<data>/owner.lock`, and its port comes
 *   from there, not from PORT. A starting server is waited for; so is another command working
 *   on the folder. A ready server that does not answer is an error, never a reason to open the
 *   folder beside it.
 * - PostgreSQL: many processes may share the database, so there is no folder lock; a server
 *   answering on 127.0.0.1:PORT is used when there is one (it is faster than loading the
 *   database stack), PostgreSQL directly otherwise.
 *
 * Only node built-ins here; the database path is imported when it is taken.
 */

import { createReadStream, statSync } from 'node:fs';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { CliError } from './errors.js';
import { acquireLock, describeOwner, type HeldLock, type LockRecord, liveOwner, ownerUrl } from './owner-lock.js';
import { adminToken, type Settings } from './settings.js';

/** How long a command waits for a starting server or another command. */
export const WAIT_MS = 90_000;
const POLL_MS = 100;

/** A server's admin API. */
export interface AdminApi {
  base: string;
  /** POST `body` to `path` (GET it when `body` is null) and stream a 200 answer into `to` (a refusal is an ApiError). */
  download(path: string, body: unknown, to: NodeJS.WritableStream): Promise<void>;
  /** `as`: call as an app's backend (its API key and a server token) instead of as the admin. */
  call<T>(method: string, path: string, body?: unknown, as?: { apiKey: string; token: string }): Promise<T>;
  /** POST the file at `file` to `path`, and hand each line of the NDJSON answer to `onLine` as it comes. */
  upload(path: string, file: string, onLine: (line: unknown) => void): Promise<void>;
}

/** The server refused the connection: the request never reached it, so it may be retried. */
class Unreachable extends Error {}

/** How long a ready owner that refuses connections is given (it may be shutting down). */
const UNREACHABLE_GRACE_MS = 15_000;

/** An admin API error the command turns into its own message (404 on a token's app). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One HTTP request with node:http. Not fetch: Node loads fetch's implementation (undici) on
 * first use, which costs more than the whole request to a local server.
 */
function request(
  url: string,
  opts: { method: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method, headers: opts.headers, timeout: opts.timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Call `ok` with the answer of `req` when it is a 200; reject with the refusal's words, or with
 * Unreachable when the connection was refused (nothing reached the server: it may be retried).
 */
function answered(
  base: string,
  req: ClientRequest,
  reject: (e: Error) => void,
  ok: (res: IncomingMessage) => void,
): void {
  req.on('error', (e: NodeJS.ErrnoException) =>
    reject(
      e.code === 'ECONNREFUSED'
        ? new Unreachable(e.code)
        : new CliError(`lost the connection to the server at ${base} (${e.code ?? e.message})`),
    ),
  );
  req.on('response', (res) => {
    if (res.statusCode === 200) ok(res);
    else void refusal(base, res).then(reject);
  });
}

/** A refusal's words, read from its JSON error body. */
function refusal(base: string, res: IncomingMessage): Promise<ApiError> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      text += d;
    });
    res.on('end', () => {
      let message = 'error';
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON
      }
      if (res.statusCode === 401) resolve(new ApiError(401, `the server at ${base} refused the admin token`));
      else resolve(new ApiError(res.statusCode ?? 0, `the server at ${base} answered ${res.statusCode}: ${message}`));
    });
  });
}

function adminApi(base: string, s: Settings): AdminApi {
  const token = adminToken(s);
  return {
    upload(p: string, file: string, onLine: (line: unknown) => void): Promise<void> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${base}${p}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/octet-stream',
            'content-length': String(statSync(file).size),
          },
        });
        answered(base, req, reject, (res) => {
          let rest = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            rest += d;
            let nl = rest.indexOf('\n');
            while (nl >= 0) {
              const text = rest.slice(0, nl);
              rest = rest.slice(nl + 1);
              if (text.trim()) onLine(JSON.parse(text));
              nl = rest.indexOf('\n');
            }
          });
          res.on('aborted', () => reject(new CliError(`the server at ${base} stopped answering (see its log)`)));
          res.on('end', () => resolve());
        });
        createReadStream(file).on('error', reject).pipe(req);
      });
    },
    base,
    download(p: string, body: unknown, to: NodeJS.WritableStream): Promise<void> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${base}${p}`, {
          method: body === null ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === null ? {} : { 'content-type': 'application/json' }),
          },
        });
        answered(base, req, reject, (res) => {
          // The server cuts the answer short when the backup fails: 'aborted' then, not 'end'.
          res.on('aborted', () =>
            reject(new CliError(`the server at ${base} stopped sending the backup (see its log)`)),
          );
          res.on('error', (e) => reject(new CliError(`the backup from ${base} was cut off (${e.message})`)));
          res.pipe(to);
          to.on('finish', () =>
            res.complete ? resolve() : reject(new CliError(`the backup from ${base} was cut off`)),
          );
          to.on('error', reject);
        });
        if (body === null) req.end();
        else req.end(JSON.stringify(body));
      });
    },
    async call<T>(method: string, path: string, body?: unknown, as?: { apiKey: string; token: string }): Promise<T> {
      const auth: Record<string, string> = as
        ? { authorization: `Bearer ${as.token}`, 'x-api-key': as.apiKey }
        : { authorization: `Bearer ${token}` };
      let r: { status: number; text: string };
      try {
        r = await request(`${base}${path}`, {
          method,
          headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          timeoutMs: 30_000,
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED') throw new Unreachable(code);
        // The request may have reached the server: never repeat it.
        throw new CliError(`lost the connection to the server at ${base} (${code ?? (e as Error).message})`);
      }
      let json: { error?: { message?: string } } | undefined;
      try {
        json = JSON.parse(r.text);
      } catch {
        json = undefined;
      }
      if (r.status === 401 && !as) {
        const from = s.adminToken ? 'PARLEY_ADMIN_TOKEN' : `${s.dataDir}/admin-token`;
        throw new ApiError(401, `the server at ${base} refused the admin token (from ${from})`);
      }
      if (r.status < 200 || r.status > 299) {
        throw new ApiError(r.status, `the server at ${base} answered ${r.status}: ${json?.error?.message ?? 'error'}`);
      }
      return json as T;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `work` against the data: through a server's admin API, or directly. `command` names
 * the caller in the lock (`app create` …); `note` prints one progress line to stderr.
 */
export async function withData<T>(
  s: Settings,
  command: string,
  work: { api: (api: AdminApi) => Promise<T>; direct: () => Promise<T> },
  note: (line: string) => void = (l) => process.stderr.write(`parley: ${l}\n`),
): Promise<T> {
  if (s.databaseUrl) {
    const base = `http://127.0.0.1:${s.port}`;
    if (await answers(base)) return work.api(adminApi(base, s));
    return work.direct();
  }
  const deadline = Date.now() + WAIT_MS;
  let waitingFor: string | null = null;
  let refusedSince: number | null = null;
  for (;;) {
    const owner = liveOwner(s.dataDir);
    if (owner && owner.host !== hostname()) {
      throw new CliError(`${s.dataDir} is in use by ${describeOwner(owner)}; run this command on that host`);
    }
    if (owner?.kind === 'start' && owner.state === 'ready' && owner.port) {
      const base = ownerUrl(owner);
      try {
        return await work.api(adminApi(base, s));
      } catch (e) {
        if (!(e instanceof Unreachable)) throw e;
        // A server shutting down refuses connections until it exits and releases the lock:
        // give it a while, then look at the lock again.
        if (refusedSince === null) {
          refusedSince = Date.now();
          note(`the server at ${base} (pid ${owner.pid}) refuses connections; waiting…`);
        }
        if (Date.now() - refusedSince > UNREACHABLE_GRACE_MS && liveOwner(s.dataDir)?.nonce === owner.nonce) {
          throw new CliError(
            `${describeOwner(owner)} owns ${s.dataDir} but does not answer at ${base}; ` +
              'not opening the data folder beside it',
          );
        }
        await sleep(POLL_MS * 2);
        continue;
      }
    }
    if (owner) {
      // A server still starting, or another command on the folder: wait, saying so once.
      const what = owner.kind === 'start' ? 'the server to finish starting' : `\`parley ${owner.command}\` to finish`;
      if (waitingFor !== owner.nonce) {
        note(`waiting for ${what} (pid ${owner.pid})…`);
        waitingFor = owner.nonce;
      }
      if (Date.now() > deadline) {
        throw new CliError(`gave up after ${WAIT_MS / 1000} s waiting for ${describeOwner(owner)} in ${s.dataDir}`);
      }
      await sleep(POLL_MS);
      continue;
    }
    const taken = acquireLock(s.dataDir, { kind: 'command', command });
    if ('owner' in taken) continue; // someone came first: look at them
    return withLock(taken.held, work.direct);
  }
}

async function withLock<T>(lock: HeldLock, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Whether a server answers /healthz at `base`. */
async function answers(base: string): Promise<boolean> {
  try {
    return (await request(`${base}/healthz`, { method: 'GET', timeoutMs: 800 })).status === 200;
  } catch {
    return false;
  }
}

/**
 * For `migrate` and `start`: take the folder's lock, waiting (bounded) while another command
 * holds it; a server holding it is an error (`refuse` words it).
 */
export async function takeFolder(
  s: Settings,
  who: { kind: 'start' | 'command'; command: string; port?: number; listen_host?: string },
  refuse: (owner: LockRecord) => string,
  note: (line: string) => void = (l) => process.stderr.write(`parley: ${l}\n`),
): Promise<HeldLock> {
  const deadline = Date.now() + WAIT_MS;
  let waitingFor: string | null = null;
  for (;;) {
    const taken = acquireLock(s.dataDir, who);
    if ('held' in taken) return taken.held;
    const owner = taken.owner;
    if (owner.kind === 'start') throw new CliError(refuse(owner));
    if (waitingFor !== owner.nonce) {
      note(`waiting for \`parley ${owner.command}\` (pid ${owner.pid}) to finish…`);
      waitingFor = owner.nonce;
    }
    if (Date.now() > deadline) {
      throw new CliError(`gave up after ${WAIT_MS / 1000} s waiting for ${describeOwner(owner)} in ${s.dataDir}`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Debian's nginx in front of Parley nodes, for tests: the documented configuration
 * (deploy/nginx/parley.conf) as it ships, with only its addresses, ports and certificate paths
 * replaced, inside a minimal nginx.conf of the test's own (its own prefix, pid, logs and temp
 * folders), over TLS with a certificate the test makes with openssl. Clients get a `fetch` and a
 * `WebSocket` that trust that certificate (and nothing is made to skip verification).
 *
 * Without nginx or openssl a suite is skipped (`describe.skipIf(!haveNginx)`), unless
 * PARLEY_REQUIRE_NGINX=1 (CI) makes that a failure: importing this module then throws.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { freePort } from './free-port.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The configuration the docs tell operators to install. */
export const NGINX_CONF = path.join(ROOT, 'deploy/nginx/parley.conf');

function which(name: string, fallbacks: string[]): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...fallbacks]) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

export const NGINX = which('nginx', ['/usr/sbin', '/usr/local/sbin']);
const OPENSSL = which('openssl', ['/usr/bin']);
export const haveNginx = NGINX !== null && OPENSSL !== null;

if (!haveNginx) {
  const missing = [NGINX ? null : 'nginx', OPENSSL ? null : 'openssl'].filter(Boolean).join(' and ');
  if (process.env.PARLEY_REQUIRE_NGINX === '1')
    throw new Error(`PARLEY_REQUIRE_NGINX=1 but ${missing} is missing: apt-get install nginx-light openssl`);
  console.warn(`nginx tests skipped: ${missing} is missing (PARLEY_REQUIRE_NGINX=1 fails instead)`);
}

/** A fetch whose TLS trusts `ca` (the shape of the SDK's `fetch` option and of the global one). */
export type TrustingFetch = (url: string, init?: Parameters<typeof undiciFetch>[1]) => ReturnType<typeof undiciFetch>;

export interface Nginx {
  /** `https://127.0.0.1:<port>`: what clients use in place of a node's URL. */
  url: string;
  /** The plain-HTTP port's base URL (it only redirects to HTTPS). */
  httpUrl: string;
  /** The certificate nginx serves (self-signed, for 127.0.0.1 and localhost), PEM. */
  ca: string;
  fetch: TrustingFetch;
  /** `ws`, trusting the certificate: pass it as the SDK's `WebSocket`. */
  WebSocket: new (
    url: string,
    protocols?: string | string[],
  ) => WebSocket;
  /** Its error log so far (upstream failures are logged here). */
  errors(): string;
  close(): Promise<void>;
}

/** Replace `from` in `text`, which must appear in it (so the shipped file and the test cannot drift apart). */
function swap(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`${NGINX_CONF} no longer holds ${String(from)}: update test/nginx.ts with it`);
  return typeof from === 'string' ? text.split(from).join(to) : text.replace(from, to);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Start nginx with the shipped configuration in front of two nodes on `ports` (the file has two
 * `server` lines per upstream; a node's port may be one nothing listens on yet).
 */
export async function startNginx(ports: [number, number]): Promise<Nginx> {
  if (!NGINX || !OPENSSL) throw new Error('nginx and openssl are needed');
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-nginx-'));
  // The workers (user nobody when nginx starts as root) write request bodies to these.
  chmodSync(dir, 0o711);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(path.join(dir, d));
    chmodSync(path.join(dir, d), 0o777);
  }
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const [tls, plain] = [await freePort(), await freePort()];
  let site = readFileSync(NGINX_CONF, 'utf8');
  site = swap(site, '127.0.0.1:3001', `127.0.0.1:${ports[0]}`);
  site = swap(site, '127.0.0.1:3002', `127.0.0.1:${ports[1]}`);
  site = swap(site, /^\s*listen \[::\]:80;\n/m, '');
  site = swap(site, /^\s*listen \[::\]:443 ssl http2;\n/m, '');
  site = swap(site, /^(\s*)listen 80;/m, `$1listen 127.0.0.1:${plain};`);
  site = swap(site, /^(\s*)listen 443 ssl http2;/m, `$1listen 127.0.0.1:${tls} ssl http2;`);
  site = swap(site, '/etc/letsencrypt/live/chat.example.com/fullchain.pem', cert);
  site = swap(site, '/etc/letsencrypt/live/chat.example.com/privkey.pem', key);
  writeFileSync(path.join(dir, 'parley.conf'), site);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log off;`,
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      `  include ${dir}/parley.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-e', 'stderr', '-p', dir, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + 15_000;
  while (!(await accepts(tls))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited at start:\n${out}`);
    if (Date.now() > end) throw new Error(`nginx did not listen within 15 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 50)); // poll: nginx says nothing when it is ready
  }
  const ca = readFileSync(cert, 'utf8');
  const dispatcher = new Agent({ connect: { ca } });
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], opts: WebSocket.ClientOptions = {}) {
      super(url, protocols, { ...opts, ca });
    }
  }
  return {
    url: `https://127.0.0.1:${tls}`,
    httpUrl: `http://127.0.0.1:${plain}`,
    ca,
    fetch: (url, init = {}) => undiciFetch(url, { ...init, dispatcher }),
    WebSocket: TrustingWebSocket,
    errors: () => {
      try {
        return readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // a fast stop: a graceful one would wait for every WebSocket
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await dispatcher.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

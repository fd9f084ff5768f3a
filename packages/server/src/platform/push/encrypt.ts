/**
 * Web Push payload encryption (RFC 8291, aes128gcm) off the event loop.
 *
 * Each push is encrypted for its subscription alone: a fresh ECDH key pair, the shared secret,
 * three HKDFs and AES-GCM, about 0.35 ms of synchronous CPU (web-push's `encrypt`). A message
 * to a channel whose offline members want everything is that many pushes at once; in the
 * production mix (bench/scenarios/prodmix.ts, pushes only) their encryptions held the event loop
 * for up to 50 ms in a row, and every send waiting on the loop waited with them (send→deliver
 * p99 3–4× bare). Here they run on a worker thread, one for the process, made on the first push:
 * the loop only posts the keys and the payload and takes the body back (about 0.05 ms).
 *
 * The worker runs web-push's own `encrypt` (the same code as before, loaded by its resolved path,
 * so it works from the sources and from dist/ alike). If a worker cannot be made or dies, the
 * encryption runs here, on the loop, as it did before.
 *
 * On the background thread (background-thread.ts), which serves no client, the pushes are
 * encrypted on its own loop (`encryptPushesHere`): a third thread there cost a hand-off each
 * way and one more thread to wake per push, on machines where every wake-up competes with the
 * sends for a core.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { webPush } from '../lazy-deps.js';

/** The worker's code (CommonJS, evaluated): encrypt what it is sent, answer the body. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const webpush = require(workerData.webPush);
parentPort.on('message', (m) => {
  try {
    const b = webpush.encrypt(m.p256dh, m.auth, m.payload, 'aes128gcm').cipherText;
    const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    parentPort.postMessage({ id: m.id, body: ab }, [ab]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

interface Pending {
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

let worker: Worker | null = null;
/** Set when a worker could not be made, or this thread serves no client: encrypt on the loop. */
let noWorker = false;

/** Encrypt on this thread's loop from now on, with no worker (a thread that serves no client). */
export function encryptPushesHere(): void {
  noWorker = true;
}
let nextId = 0;
const pending = new Map<number, Pending>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

function workerFor(): Worker | null {
  if (worker || noWorker) return worker;
  try {
    const w = new Worker(WORKER, {
      eval: true,
      workerData: { webPush: createRequire(import.meta.url).resolve('web-push') },
      // Small: it holds a payload and a few keys at a time.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    // Never what keeps a process alive: an idle server exits as it would without it.
    w.unref();
    w.on('message', (m: { id: number; body?: ArrayBuffer; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.body) p.resolve(Buffer.from(m.body));
      else p.reject(new Error(m.error ?? 'encryption failed'));
    });
    const gone = (err: Error) => {
      if (worker !== w) return;
      worker = null;
      failAll(err);
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`the push encryption worker exited (${code})`)));
    worker = w;
  } catch {
    noWorker = true;
  }
  return worker;
}

/** Encrypt on the loop (no worker): web-push's `encrypt`, as the worker runs it. */
function encryptHere(p256dh: string, auth: string, payload: string): Buffer {
  return webPush().encrypt(p256dh, auth, payload, 'aes128gcm').cipherText;
}

/** The aes128gcm body of `payload` for the subscription with keys `p256dh` and `auth`. */
export function encryptPush(p256dh: string, auth: string, payload: string): Promise<Buffer> {
  const w = workerFor();
  if (!w) return Promise.resolve().then(() => encryptHere(p256dh, auth, payload));
  return new Promise<Buffer>((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    w.postMessage({ id, p256dh, auth, payload });
  });
}

/** Stop the worker (tests; a process exits without it). */
export async function stopPushEncryption(): Promise<void> {
  const w = worker;
  worker = null;
  failAll(new Error('push encryption stopped'));
  await w?.terminate();
}

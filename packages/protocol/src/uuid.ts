/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Message ids are made
 * with it, by clients or the server, so ids sort by creation time and retries can reuse them.
 *
 * The random bits come from a pool filled by one `getRandomValues` call per 256 ids, and the
 * hex from a table: a call per id (and `padStart` per byte) cost 7.6 µs of each server send's
 * ~100 µs of CPU (docs/benchmarks.md). Each pool byte is used once.
 */
const POOL_IDS = 256;
const pool = new Uint8Array(16 * POOL_IDS);
let next = POOL_IDS;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7(now: number = Date.now()): string {
  if (next === POOL_IDS) {
    fillRandom(pool);
    next = 0;
  }
  const b = pool.subarray(next * 16, next * 16 + 16);
  next++;
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = ((b[6] as number) & 0x0f) | 0x70;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  return `${hex(b, 0, 4)}-${hex(b, 4, 6)}-${hex(b, 6, 8)}-${hex(b, 8, 10)}-${hex(b, 10, 16)}`;
}

/**
 * Random bytes from Web Crypto where the platform has it (browsers, Node, Deno, and React Native
 * with `react-native-get-random-values`); else from `Math.random` — Hermes, React Native's
 * engine, has no Web Crypto of its own. Ids need to be unique, not secret: 74 random bits per
 * millisecond keep two devices' ids apart either way.
 */
function fillRandom(bytes: Uint8Array): void {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => unknown } }).crypto;
  if (typeof c?.getRandomValues === 'function') {
    c.getRandomValues(bytes);
    return;
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
}

/** Bytes `from`…`to` of `b` as lowercase hex. */
function hex(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += HEX[b[i] as number];
  return s;
}

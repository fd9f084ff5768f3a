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
    globalThis.crypto.getRandomValues(pool);
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

/** Bytes `from`…`to` of `b` as lowercase hex. */
function hex(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += HEX[b[i] as number];
  return s;
}

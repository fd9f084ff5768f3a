/**
 * PGlite drops a leading U+FEFF (byte order mark) from every text value it reads.
 *
 * Its wire-protocol reader decodes each field with `new TextDecoder('utf-8')`, and a WHATWG
 * decoder made without `{ ignoreBOM: true }` strips a BOM at the start of its input. Every
 * field is decoded on its own, so a message `"\ufeffhello"` came back as `"hello"` and a name
 * `"\ufeff"` as `""`, while PostgreSQL (through node-postgres, which decodes with
 * `Buffer.toString`) returns the bytes stored. The upstream fix is `ignoreBOM: true` in that
 * reader; the reader and its decoder are private, so until then this wraps the one public
 * entry point, `protocol.Parser.prototype.parse`, which PGlite's own parser instances use.
 *
 * The wrapper walks the same byte stream with the same framing (1 type byte, a 4-byte length
 * that counts itself), keeps the tail of an incomplete message for the next chunk as the
 * parser does, and for each DataRow notes the fields whose bytes begin with EF BB BF. Only
 * when a chunk has such a field does it re-decode those fields (BOM kept) and put them into
 * the parsed rows, in order. A chunk without one costs a scan of the length words.
 */
import { protocol } from '@electric-sql/pglite';

const DATA_ROW = 0x44; // 'D'
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

type Parse = (
  buffer: ArrayBuffer | ArrayBufferView,
  callback: (msg: { name: string; fields?: unknown[] }) => void,
) => void;

/** Bytes not yet framed into a whole message, per parser instance (its own buffer mirrors this). */
const tails = new WeakMap<object, Uint8Array>();
let installed = false;

/** Make every PGlite instance in this process return text with its leading BOM. Idempotent. */
export function keepByteOrderMarks(): void {
  if (installed) return;
  installed = true;
  const proto = protocol.Parser.prototype as unknown as { parse: Parse };
  const parse = proto.parse;
  proto.parse = function (this: object, buffer, callback) {
    try {
      const fixes = scan(this, asBytes(buffer));
      if (!fixes) return parse.call(this, buffer, callback);
      let row = 0;
      return parse.call(this, buffer, (msg) => {
        if (msg.name === 'dataRow' && msg.fields) {
          const fix = fixes[row++];
          if (fix) for (const [k, v] of fix) msg.fields[k] = v;
        }
        callback(msg);
      });
    } catch (err) {
      // The parser resets its buffer when it throws; so does the mirror.
      tails.delete(this);
      throw err;
    }
  };
}

function asBytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
}

/**
 * Frame the parser's pending bytes plus `chunk`; for each whole DataRow, the fields (by index)
 * that start with a BOM, decoded with it. Null when no row of this chunk has one.
 */
function scan(parser: object, chunk: Uint8Array): (Map<number, string> | null)[] | null {
  const tail = tails.get(parser);
  let bytes = chunk;
  if (tail) {
    bytes = new Uint8Array(tail.length + chunk.length);
    bytes.set(tail);
    bytes.set(chunk, tail.length);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: (Map<number, string> | null)[] = [];
  let any = false;
  let i = 0;
  while (i + 5 <= bytes.length) {
    const length = view.getUint32(i + 1);
    if (length === 0 || i + 1 + length > bytes.length) break;
    if (bytes[i] === DATA_ROW) {
      const fix = bomFields(bytes, view, i + 5, i + 1 + length);
      rows.push(fix);
      any ||= fix !== null;
    }
    i += 1 + length;
  }
  if (i < bytes.length) tails.set(parser, bytes.slice(i));
  else tails.delete(parser);
  return any ? rows : null;
}

/** A DataRow body: int16 field count, then per field an int32 length (-1: null) and its bytes. */
function bomFields(bytes: Uint8Array, view: DataView, start: number, end: number): Map<number, string> | null {
  let fix: Map<number, string> | null = null;
  const count = view.getInt16(start);
  let p = start + 2;
  for (let k = 0; k < count && p + 4 <= end; k++) {
    const len = view.getInt32(p);
    p += 4;
    if (len <= 0) continue;
    if (len >= 3 && bytes[p] === 0xef && bytes[p + 1] === 0xbb && bytes[p + 2] === 0xbf) {
      fix ??= new Map();
      fix.set(k, decoder.decode(bytes.subarray(p, p + len)));
    }
    p += len;
  }
  return fix;
}

/**
 * The BOM fix mirrors PGlite's framing: however the byte stream is cut into chunks, every
 * DataRow comes out with its fields as stored — a leading U+FEFF included — and in order.
 */
import { protocol } from '@electric-sql/pglite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepByteOrderMarks } from './pglite-bom.js';

const enc = new TextEncoder();

/** A backend DataRow message ('D') with these fields (null: SQL NULL). */
function dataRow(fields: (string | null)[]): Uint8Array {
  const parts = fields.map((f) => (f === null ? null : enc.encode(f)));
  const size = 4 + 2 + parts.reduce((n, p) => n + 4 + (p?.length ?? 0), 0);
  const out = new Uint8Array(1 + size);
  const view = new DataView(out.buffer);
  out[0] = 0x44;
  view.setUint32(1, size);
  view.setInt16(5, fields.length);
  let at = 7;
  for (const p of parts) {
    view.setInt32(at, p === null ? -1 : p.length);
    at += 4;
    if (p) {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

/** A CommandComplete message ('C'), so rows are not the only thing in the stream. */
function commandComplete(tag: string): Uint8Array {
  const text = enc.encode(`${tag}\0`);
  const out = new Uint8Array(1 + 4 + text.length);
  out[0] = 0x43;
  new DataView(out.buffer).setUint32(1, 4 + text.length);
  out.set(text, 5);
  return out;
}

const field = fc.oneof(
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => `\ufeff${s}`),
  fc.constantFrom('\ufeff', '\ufeff\ufeff', 'a\ufeff', ''),
);

describe('PGlite byte order marks', () => {
  it('every row reads back as stored, however the stream is chunked', () => {
    keepByteOrderMarks();
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { maxLength: 4 }), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (rows, cuts) => {
          const messages = [...rows.map(dataRow), commandComplete('SELECT 1')];
          const stream = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
          let at = 0;
          for (const m of messages) {
            stream.set(m, at);
            at += m.length;
          }
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const parser = new protocol.Parser();
          const got: unknown[][] = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            // Each chunk in a buffer of its own, as the WASM side hands them over.
            parser.parse(stream.slice(from, to), (msg) => {
              if (msg.name === 'dataRow') got.push((msg as unknown as { fields: unknown[] }).fields);
            });
            from = to;
          }
          expect(got).toEqual(rows);
        },
      ),
      { seed: 7, numRuns: 500 },
    );
  });
});

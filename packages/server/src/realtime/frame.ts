/**
 * Outgoing frames encoded once. An event fanned out to a thousand sockets is one string; `ws`
 * would UTF-8 encode it and build a frame header once per socket. An OutFrame holds the whole
 * WebSocket frame (header + payload) as one Buffer, built on first use, so every subscriber
 * gets the same bytes in one socket write.
 *
 * The bytes are an unmasked, unfragmented, uncompressed text frame (RFC 6455 §5.2): what a
 * server sends on a connection with no extension negotiated. Connection decides when writing
 * them straight to the socket is safe and falls back to `ws.send(text)` when it is not.
 */

/** A text frame as it goes out: its text, and its wire bytes once someone needs them. */
export class OutFrame {
  private bytes: Buffer | null = null;
  /** About a shadowed message: only its author (this id) and moderators get it (moderation/shadow.ts). */
  shadowOf: string | null = null;

  constructor(readonly text: string) {}

  /** Header and UTF-8 payload in one Buffer, built once and shared; never mutate it. */
  get wire(): Buffer {
    this.bytes ??= encodeTextFrame(this.text);
    return this.bytes;
  }

  /**
   * The frame for `text`, reusing the last one made here when the text is the same: an event
   * sent to many users arrives as one string per user (`conn.send(msg.frame)`), and `===` on
   * the same string is a pointer compare.
   */
  static of(text: string): OutFrame {
    if (last.text !== text) last = new OutFrame(text);
    return last;
  }
}

let last = new OutFrame('');

/** Encode `text` as a single server-to-client text frame (FIN, opcode 1, no mask, no RSV bits). */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  // Payload length: 7 bits up to 125, else 126 + 16 bits, else 127 + 64 bits (RFC 6455 §5.2).
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(header + length);
  buf[0] = 0x81;
  if (header === 2) {
    buf[1] = length;
  } else if (header === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(length, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    buf.writeUInt32BE(length >>> 0, 6);
  }
  buf.write(text, header, length, 'utf8');
  return buf;
}

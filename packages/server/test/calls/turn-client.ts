/**
 * A minimal TURN client for tests: one Allocate (RFC 5766) over UDP with the long-term
 * credential mechanism (RFC 5389 §10.2): the first request is answered 401 with a realm and a
 * nonce, the second carries USERNAME, REALM, NONCE and a MESSAGE-INTEGRITY keyed with
 * MD5(username:realm:password). Answers the relayed address, or the error code.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

const MAGIC = 0x2112a442;
const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
} as const;
const ALLOCATE = 0x0003;
const ALLOCATE_OK = 0x0103;
const ALLOCATE_ERR = 0x0113;

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad)]);
}

function message(type: number, attrs: Buffer[], integrityKey?: Buffer): Buffer {
  const tx = randomBytes(12);
  let body = Buffer.concat(attrs);
  const header = (len: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    tx.copy(h, 8);
    return h;
  };
  if (integrityKey) {
    // The length counts the MESSAGE-INTEGRITY attribute (24 bytes) that follows.
    const mac = createHmac('sha1', integrityKey)
      .update(Buffer.concat([header(body.length + 24), body]))
      .digest();
    body = Buffer.concat([body, attr(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  return Buffer.concat([header(body.length), body]);
}

function parse(buf: Buffer): { type: number; attrs: Map<number, Buffer> } {
  const type = buf.readUInt16BE(0);
  const len = buf.readUInt16BE(2);
  const attrs = new Map<number, Buffer>();
  let at = 20;
  while (at + 4 <= 20 + len) {
    const t = buf.readUInt16BE(at);
    const l = buf.readUInt16BE(at + 2);
    attrs.set(t, buf.subarray(at + 4, at + 4 + l));
    at += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type, attrs };
}

/** One UDP socket for a whole exchange: coturn ties a nonce to the client's address and port. */
function udpClient(host: string, port: number) {
  const sock = createSocket('udp4');
  const inbox: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | null = null;
  sock.on('message', (data) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(data);
    } else inbox.push(data);
  });
  return {
    ask(msg: Buffer, timeoutMs = 5_000): Promise<Buffer> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiter = null;
          reject(new Error('no answer from the TURN server'));
        }, timeoutMs);
        waiter = (b) => {
          clearTimeout(t);
          resolve(b);
        };
        const held = inbox.shift();
        if (held) waiter(held);
        sock.send(msg, port, host);
      });
    },
    close: () => sock.close(),
  };
}

export type AllocateResult = { ok: true; relayed: { address: string; port: number } } | { ok: false; code: number };

/** Allocate a UDP relay on `host:port` with `username`/`password`. */
export async function turnAllocate(
  host: string,
  port: number,
  username: string,
  password: string,
): Promise<AllocateResult> {
  const udp = udpClient(host, port);
  try {
    return await allocate(udp, username, password);
  } finally {
    udp.close();
  }
}

async function allocate(
  udp: ReturnType<typeof udpClient>,
  username: string,
  password: string,
): Promise<AllocateResult> {
  const transport = attr(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  const first = parse(await udp.ask(message(ALLOCATE, [transport])));
  if (first.type !== ALLOCATE_ERR) throw new Error(`expected a 401 challenge, got type ${first.type}`);
  const realm = first.attrs.get(ATTR.REALM);
  const nonce = first.attrs.get(ATTR.NONCE);
  if (!realm || !nonce) throw new Error('the challenge has no realm or nonce');
  const key = createHash('md5').update(`${username}:${realm.toString()}:${password}`).digest();
  const second = parse(
    await udp.ask(
      message(
        ALLOCATE,
        [transport, attr(ATTR.USERNAME, Buffer.from(username)), attr(ATTR.REALM, realm), attr(ATTR.NONCE, nonce)],
        key,
      ),
    ),
  );
  if (second.type === ALLOCATE_OK) {
    const x = second.attrs.get(ATTR.XOR_RELAYED_ADDRESS) as Buffer;
    const port2 = x.readUInt16BE(2) ^ (MAGIC >>> 16);
    const addr = (x.readUInt32BE(4) ^ MAGIC) >>> 0;
    return { ok: true, relayed: { address: [24, 16, 8, 0].map((s) => (addr >>> s) & 255).join('.'), port: port2 } };
  }
  const err = second.attrs.get(ATTR.ERROR_CODE);
  return { ok: false, code: err ? (err[2] as number) * 100 + (err[3] as number) : 0 };
}

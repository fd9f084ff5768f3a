/**
 * Secrets at rest.
 *
 * App secrets sign and verify HS256 tokens, so the server must be able to read them back:
 * a one-way hash (as for passwords) is not possible. They are sealed with AES-256-GCM under a
 * master key that never enters the database, so a dump or backup of the database alone does
 * not leak them. The master key comes from `PARLEY_MASTER_KEY`, or is generated on first
 * start into `<data>/master.key` (mode 0600). Several nodes on one PostgreSQL must share the
 * same `PARLEY_MASTER_KEY`.
 *
 * The admin token is compared in constant time against its SHA-256 (`secretMatcher`); the
 * generated one is kept in `<data>/admin-token` so the operator can read it again, and
 * `buildServer` hands it back once so `parley start` can print it on first start.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
  /**
   * A keyed digest (HMAC-SHA-256) of `parts` under a key derived from the master key for
   * `purpose`: ids only this server can compute from content (whoever holds the content alone
   * cannot tell whether the server has it).
   */
  mac(purpose: string, ...parts: (string | Buffer)[]): Buffer;
}

function parseKey(raw: string): Buffer {
  const t = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('PARLEY_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
  return key;
}

/** Load the master key from config, or from (or into) the data folder. */
export function loadMasterKey(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return parseKey(configured);
  const file = path.join(dataDir, 'master.key');
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx': of two processes generating at once (nodes on PostgreSQL sharing a data folder),
  // one writes the file and the other reads the winner's key.
  if (!createExclusive(file, `${key.toString('hex')}\n`)) return parseKey(readFileSync(file, 'utf8'));
  return key;
}

/** AES-256-GCM sealing: `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
export function createSealer(key: Buffer): Sealer {
  const macKeys = new Map<string, Buffer>();
  return {
    mac(purpose, ...parts) {
      let k = macKeys.get(purpose);
      if (!k) {
        k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `parley mac: ${purpose}`, 32));
        macKeys.set(purpose, k);
      }
      const h = createHmac('sha256', k);
      // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
      for (const p of parts) {
        const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        h.update(len).update(b);
      }
      return h.digest();
    },
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join(
        '.',
      );
    },
    open(sealed) {
      const [v, iv, tag, body] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown sealed secret format');
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    },
  };
}

/** The admin token: configured, or generated once and kept in the data folder. */
export function loadAdminToken(configured: string | undefined, dataDir: string): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dataDir, { recursive: true });
  const token = `padm_${randomBytes(24).toString('base64url')}`;
  if (!createExclusive(file, `${token}\n`)) return { token: readFileSync(file, 'utf8').trim(), generated: false };
  return { token, generated: true };
}

/** Write a new file readable by its owner only; false when it already exists. */
function createExclusive(file: string, body: string): boolean {
  try {
    writeFileSync(file, body, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest();

/** A constant-time checker for one secret string. */
export function secretMatcher(secret: string): (candidate: string) => boolean {
  const want = sha(secret);
  return (candidate) => timingSafeEqual(sha(candidate), want);
}

/** A new random credential with a readable prefix. */
export function newCredential(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

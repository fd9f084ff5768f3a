/**
 * Signed, expiring file URLs: what an `<img src>` can use, since it sends no headers. The
 * signature (HMAC-SHA256 under a key derived from the master key, so every node that shares
 * the database verifies it) binds the app, the file, the variant and the expiry.
 *
 * Expiries are rounded up to a multiple of a tenth of the lifetime: a client asking again a
 * moment later gets the same URL, so browsers and caches keep hitting one cached copy.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedParts {
  app: string;
  file: string;
  variant: string;
  /** Unix seconds. */
  exp: number;
}

export class UrlSigner {
  private readonly key: Buffer;
  constructor(
    masterKey: Buffer,
    private readonly ttlSeconds: number,
  ) {
    this.key = createHmac('sha256', masterKey).update('parley file urls v1').digest();
  }

  private mac(p: SignedParts): string {
    return createHmac('sha256', this.key)
      .update(`${p.app}\n${p.file}\n${p.variant}\n${p.exp}`)
      .digest('base64url')
      .slice(0, 32);
  }

  /** The expiry a URL made now gets (Unix seconds). */
  expiry(now = Date.now()): number {
    const step = Math.max(1, Math.floor(this.ttlSeconds / 10));
    return Math.ceil((Math.floor(now / 1000) + this.ttlSeconds) / step) * step;
  }

  /** Query string (without `?`) of a signed URL. */
  query(p: Omit<SignedParts, 'exp'>, exp = this.expiry()): string {
    const sig = this.mac({ ...p, exp });
    return `app=${encodeURIComponent(p.app)}&v=${encodeURIComponent(p.variant)}&exp=${exp}&sig=${sig}`;
  }

  /** Whether `sig` is right for these parts and not expired. */
  verify(p: SignedParts, sig: string, now = Date.now()): boolean {
    if (!Number.isSafeInteger(p.exp) || p.exp * 1000 < now) return false;
    const want = Buffer.from(this.mac(p));
    const got = Buffer.from(sig);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

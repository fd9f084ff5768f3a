/**
 * Where file bytes live, behind one small interface: a folder inside the data folder (the
 * embedded default) or any S3-compatible object store (AWS S3, Cloudflare R2, MinIO, …)
 * through the official AWS SDK. Keys are `<app id>/<file id>[.<variant>]`, made by the server
 * only, never from user input.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { requestPresigner, s3 } from '../lazy-deps.js';

/** A byte range, both ends included (as in HTTP `Range`). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Store the file at `from` (a local temporary file, moved or copied) under `key`. */
  putFile(key: string, from: string, opts: { contentType: string; size: number }): Promise<void>;
  /** Store bytes under `key` (thumbnails). */
  putBytes(key: string, bytes: Buffer, opts: { contentType: string }): Promise<void>;
  /** The bytes of `key` (or of a range of it). */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** The size of `key` in bytes. */
  size(key: string): Promise<number>;
  /** The whole object in memory (the media job; images are bounded by the upload limit). */
  readAll(key: string): Promise<Buffer>;
  /** Remove `key`; nothing happens if it is not there. */
  remove(key: string): Promise<void>;
  /**
   * A pre-signed GET URL (S3 only): the store serves the bytes itself, with these response
   * headers, until `expiresIn` seconds pass.
   */
  presign?(
    key: string,
    opts: { expiresIn: number; contentType: string; disposition: string; cacheControl: string },
  ): Promise<string>;
  /**
   * Every object in the store with its size, in no particular order (backups). Objects written
   * or removed while it runs may or may not be listed.
   */
  list(): AsyncIterable<{ key: string; size: number }>;
  /** Fail fast at start when the store cannot be used (bucket missing, folder not writable). */
  check(): Promise<void>;
}

async function toBuffer(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Files in a folder (inside the data folder by default). */
export class LocalStore implements BlobStore {
  readonly kind = 'local' as const;
  constructor(readonly root: string) {}

  private pathOf(key: string): string {
    if (!LOCAL_KEY.test(key)) throw new Error(`bad storage key ${key}`);
    const [dir, file] = key.split('/') as [string, string];
    // Spread over 256 folders per app, so no folder grows past what file systems list quickly.
    return path.join(this.root, dir, file.slice(-2), file);
  }

  async putFile(key: string, from: string): Promise<void> {
    const to = this.pathOf(key);
    await mkdir(path.dirname(to), { recursive: true });
    try {
      await rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(from, to);
      await rm(from, { force: true });
    }
  }

  async putBytes(key: string, bytes: Buffer): Promise<void> {
    const to = this.pathOf(key);
    await mkdir(path.dirname(to), { recursive: true });
    // Unique per write: two writers of one key (content-addressed keys) never share a temp file.
    const tmp = `${to}.${process.pid}.${randomUUID()}.tmp`;
    await pipeline(
      (async function* () {
        yield bytes;
      })(),
      createWriteStream(tmp),
    );
    await rename(tmp, to);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const p = this.pathOf(key);
    await stat(p); // a missing file fails here, not in the middle of an answer
    return createReadStream(p, range ? { start: range.start, end: range.end } : {});
  }

  async readAll(key: string): Promise<Buffer> {
    return toBuffer(await this.read(key));
  }

  async size(key: string): Promise<number> {
    return (await stat(this.pathOf(key))).size;
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(): AsyncIterable<{ key: string; size: number }> {
    // <root>/<app id>/<last two characters>/<file id>[.<variant>]; temporary files (`.tmp`) and
    // anything not shaped like a key are not objects.
    const dirs = async (p: string) =>
      (await readdir(p, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const app of await dirs(this.root)) {
      for (const shard of await dirs(path.join(this.root, app))) {
        const folder = path.join(this.root, app, shard);
        for (const e of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
          const key = `${app}/${e.name}`;
          if (!e.isFile() || !LOCAL_KEY.test(key)) continue;
          const st = await stat(path.join(folder, e.name)).catch(() => null);
          if (st) yield { key, size: st.size };
        }
      }
    }
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }
}

const LOCAL_KEY = /^[0-9a-f-]{36}\/[0-9a-f-]{36}(\.[a-z0-9]+)?$/;

export interface S3Options {
  bucket: string;
  region: string;
  /** e.g. http://127.0.0.1:9000 (MinIO, s3rver), https://<account>.r2.cloudflarestorage.com */
  endpoint?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** Path-style URLs (`endpoint/bucket/key`): MinIO and most self-hosted servers need them. */
  forcePathStyle: boolean;
  /** Prefix of every key (several Parley installs in one bucket). */
  prefix: string;
}

const PUT_ATTEMPTS = 4;

/** A failure worth another try: the connection dropped before an answer, or the store answered 5xx. */
function transientStoreError(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  const code = (err as { code?: string })?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || (err as Error)?.name === 'TimeoutError';
}

/** Any S3-compatible object store, through the official AWS SDK. */
export class S3Store implements BlobStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  constructor(readonly opts: S3Options) {
    this.client = new (s3().S3Client)({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle,
      ...(opts.accessKeyId && opts.secretAccessKey
        ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
        : {}),
      // Checksums only where the API requires them: the default (CRC32 trailers, aws-chunked
      // bodies) is not understood by every S3-compatible server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private k(key: string): string {
    return `${this.opts.prefix}${key}`;
  }

  async putFile(key: string, from: string, opts: { contentType: string; size: number }): Promise<void> {
    // The SDK cannot send a stream twice, so it does not retry this upload; a connection the
    // store closed as we reused it ("socket hang up") or a 5xx is retried here from the file.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new (s3().PutObjectCommand)({
            Bucket: this.opts.bucket,
            Key: this.k(key),
            Body: createReadStream(from),
            ContentLength: opts.size,
            ContentType: opts.contentType,
          }),
        );
        break;
      } catch (err) {
        if (attempt >= PUT_ATTEMPTS || !transientStoreError(err)) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
    await rm(from, { force: true });
  }

  async putBytes(key: string, bytes: Buffer, opts: { contentType: string }): Promise<void> {
    await this.client.send(
      new (s3().PutObjectCommand)({
        Bucket: this.opts.bucket,
        Key: this.k(key),
        Body: bytes,
        ContentType: opts.contentType,
      }),
    );
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const r = await this.client.send(
      new (s3().GetObjectCommand)({
        Bucket: this.opts.bucket,
        Key: this.k(key),
        ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }),
    );
    return r.Body as Readable;
  }

  async readAll(key: string): Promise<Buffer> {
    return toBuffer(await this.read(key));
  }

  async size(key: string): Promise<number> {
    const r = await this.client.send(new (s3().HeadObjectCommand)({ Bucket: this.opts.bucket, Key: this.k(key) }));
    return r.ContentLength ?? 0;
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new (s3().DeleteObjectCommand)({ Bucket: this.opts.bucket, Key: this.k(key) }));
  }

  presign(
    key: string,
    opts: { expiresIn: number; contentType: string; disposition: string; cacheControl: string },
  ): Promise<string> {
    return requestPresigner().getSignedUrl(
      this.client,
      new (s3().GetObjectCommand)({
        Bucket: this.opts.bucket,
        Key: this.k(key),
        ResponseContentType: opts.contentType,
        ResponseContentDisposition: opts.disposition,
        ResponseCacheControl: opts.cacheControl,
      }),
      { expiresIn: opts.expiresIn },
    );
  }

  async *list(): AsyncIterable<{ key: string; size: number }> {
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new (s3().ListObjectsV2Command)({
          Bucket: this.opts.bucket,
          ...(this.opts.prefix ? { Prefix: this.opts.prefix } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of r.Contents ?? [])
        if (o.Key) yield { key: o.Key.slice(this.opts.prefix.length), size: o.Size ?? 0 };
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  async check(): Promise<void> {
    await this.client.send(new (s3().HeadBucketCommand)({ Bucket: this.opts.bucket }));
  }
}

/**
 * `PARLEY_S3_URL`: `s3://KEY_ID:SECRET@host[:port]/bucket[/prefix]?region=…&path_style=1&tls=0`
 * (`tls=0` for a plain-http endpoint such as a local MinIO; `host` `s3.amazonaws.com` or
 * `aws` for AWS itself, which then needs no endpoint).
 */
export function parseS3Url(url: string): S3Options {
  const u = new URL(url);
  if (u.protocol !== 's3:') throw new Error('PARLEY_S3_URL must start with s3://');
  const [bucket, ...rest] = u.pathname.replace(/^\//, '').split('/');
  if (!bucket) throw new Error('PARLEY_S3_URL names no bucket (s3://host/bucket)');
  const aws = u.hostname === 'aws' || u.hostname === 's3.amazonaws.com';
  const tls = u.searchParams.get('tls') !== '0';
  const prefix = rest.filter(Boolean).join('/');
  return {
    bucket,
    region: u.searchParams.get('region') ?? 'us-east-1',
    endpoint: aws ? undefined : `${tls ? 'https' : 'http'}://${u.host}`,
    accessKeyId: u.username ? decodeURIComponent(u.username) : undefined,
    secretAccessKey: u.password ? decodeURIComponent(u.password) : undefined,
    forcePathStyle: u.searchParams.get('path_style') === '1' || (!aws && u.searchParams.get('path_style') !== '0'),
    prefix: prefix ? `${prefix}/` : '',
  };
}

/** Drain a stream into nothing (an aborted upload's rest). */
export function discard(r: Readable): Promise<void> {
  return pipeline(
    r,
    new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  );
}

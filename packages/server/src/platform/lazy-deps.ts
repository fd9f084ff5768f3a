/**
 * Dependencies that a server may never use — the S3 SDK (without an S3 store), nodemailer
 * (without SMTP), ioredis (without Redis), sharp (until the first image) — loaded at their first
 * use instead of while the server starts. Loading them was a large part of a first
 * `parley start`'s module loading (docs/benchmarks.md, "First start"); each is CommonJS, so a
 * synchronous `require` at first use keeps the call sites as they were.
 */
import { createRequire } from 'node:module';
import type * as S3 from '@aws-sdk/client-s3';
import type * as PresignedPost from '@aws-sdk/s3-presigned-post';
import type * as RequestPresigner from '@aws-sdk/s3-request-presigner';
import type * as Htmlparser2 from 'htmlparser2';
import type * as IoRedis from 'ioredis';
import type Nodemailer from 'nodemailer';
import type SharpFn from 'sharp';

const require = createRequire(import.meta.url);

function once<T>(load: () => T): () => T {
  let mod: T | undefined;
  return () => {
    mod ??= load();
    return mod;
  };
}

/** `@aws-sdk/client-s3`. */
export const s3 = once(() => require('@aws-sdk/client-s3') as typeof S3);
/** `@aws-sdk/s3-request-presigner`. */
export const requestPresigner = once(() => require('@aws-sdk/s3-request-presigner') as typeof RequestPresigner);
/** `@aws-sdk/s3-presigned-post`. */
export const presignedPost = once(() => require('@aws-sdk/s3-presigned-post') as typeof PresignedPost);
/** `ioredis`. */
export const ioredis = once(() => require('ioredis') as typeof IoRedis);
/** `htmlparser2` (link previews). */
export const htmlparser2 = once(() => require('htmlparser2') as typeof Htmlparser2);
/** `nodemailer`. */
export const nodemailer = once(() => require('nodemailer') as typeof Nodemailer);

const loadSharp = once(() => require('sharp') as typeof SharpFn);
/** `sharp(…)`, loaded at the first call. */
export const sharp = ((...args: unknown[]) =>
  (loadSharp() as unknown as (...a: unknown[]) => unknown)(...args)) as unknown as typeof SharpFn;

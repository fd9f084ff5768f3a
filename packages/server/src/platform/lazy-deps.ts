/**
 * Dependencies that a server may never use — the S3 SDK (without an S3 store), nodemailer
 * (without SMTP), ioredis (without Redis), sharp (until the first image), web-push (until the
 * first push or VAPID key), argon2 (until the first password), Ajv (until the first request
 * a schema validates) — loaded at their first
 * use instead of while the server starts. Loading them was a large part of a first
 * `parley start`'s module loading (docs/benchmarks.md, "First start"); each is CommonJS, so a
 * synchronous `require` at first use keeps the call sites as they were.
 */
import { createRequire } from 'node:module';
import type * as S3 from '@aws-sdk/client-s3';
import type * as PresignedPost from '@aws-sdk/s3-presigned-post';
import type * as RequestPresigner from '@aws-sdk/s3-request-presigner';
import type * as Argon2 from '@node-rs/argon2';
import type * as Htmlparser2 from 'htmlparser2';
import type * as IoRedis from 'ioredis';
import type Nodemailer from 'nodemailer';
import type SharpFn from 'sharp';
import type WebPush from 'web-push';

const require = createRequire(import.meta.url);

/** `load`'s value, made at the first call and kept. */
export function once<T>(load: () => T): () => T {
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
/** `web-push` (with asn1.js and jws: about 40 ms of a start). */
export const webPush = once(() => require('web-push') as typeof WebPush);
/**
 * Fastify's own `@fastify/ajv-compiler`, resolved through fastify so it is the one fastify
 * ships: its validator factory (Ajv with it, ~50 ms of a first start, a V8 profile).
 */
export const fastifyAjvCompiler = once(
  () => createRequire(require.resolve('fastify'))('@fastify/ajv-compiler') as () => unknown,
);
/** `@node-rs/argon2` (its native binding). */
export const argon2 = once(() => require('@node-rs/argon2') as typeof Argon2);

const loadSharp = once(() => require('sharp') as typeof SharpFn);
/** `sharp(…)`, loaded at the first call. */
export const sharp = ((...args: unknown[]) =>
  (loadSharp() as unknown as (...a: unknown[]) => unknown)(...args)) as unknown as typeof SharpFn;

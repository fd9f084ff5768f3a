/**
 * Pictures people see beside names: a user's profile picture (avatar) and a workspace's logo.
 *
 * Both are uploaded once (`PUT /v1/me/avatar`, `PUT /v1/workspaces/{id}/logo`, multipart with one
 * part named `file`), cropped square and re-encoded by the server as WebP at each of
 * {@link IMAGE_SIZES} (so no metadata of the upload — EXIF, GPS — survives), and served from a
 * public, unguessable, never-changing URL: `/v1/images/{app_id}/{image_id}?size=N` answers the
 * smallest stored size at least N pixels wide. A new upload is a new URL (caches never go stale);
 * the user's `image` (or the workspace's `logo`) is set to it, without `size`, so any client can
 * add the size it draws. Like Slack's and Stream's avatar URLs, they need no credentials: an
 * `<img src>` works as it is.
 */
import { type Static, Type } from '@sinclair/typebox';
import { User } from './entities.js';
import { Uuid } from './ids.js';

/** The square sizes (pixels) each picture is stored at: 24–48 px avatars at 2×, profile cards, full. */
export const IMAGE_SIZES = [48, 96, 192, 512] as const;
/** Largest picture upload accepted, in bytes (below the server's own upload limit). */
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024;

export const ImageParams = Type.Object({ app_id: Uuid, id: Uuid });
export const ImageQuery = Type.Object(
  {
    /** Width wanted, in pixels: the smallest stored size at least this large (the largest past it). */
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  },
  { additionalProperties: false },
);

/** The answer to a picture upload: where it is served, and a placeholder to show meanwhile. */
export const ImageUpload = Type.Object({
  /** The URL set as the user's `image` or the workspace's `logo`. */
  url: Type.String(),
  /** A blurhash of the picture. */
  blurhash: Type.Union([Type.String(), Type.Null()]),
  /** The sizes stored (each a square of that many pixels). */
  sizes: Type.Array(Type.Integer()),
});
export type ImageUpload = Static<typeof ImageUpload>;

/** `PUT /v1/me/avatar`: the caller as everyone now sees them, and the picture. */
export const AvatarResponse = Type.Object({ user: User, image: ImageUpload });
export type AvatarResponse = Static<typeof AvatarResponse>;
/** `PUT /v1/workspace/logo`: the workspace's new logo. */
export const LogoResponse = Type.Object({ image: ImageUpload });
export type LogoResponse = Static<typeof LogoResponse>;

/**
 * The wire URL of a stored picture at a size: adds (or replaces) `size` on a Parley picture URL
 * (`…/v1/images/…`); any other URL is answered as it is.
 */
export function imageUrlAt(url: string, size: number): string {
  if (!/\/v1\/images\/[0-9a-f-]{36}\/[0-9a-f-]{36}(\?|$)/i.test(url)) return url;
  const base = url.replace(/\?.*$/, '');
  return `${base}?size=${Math.max(1, Math.round(size))}`;
}

/** Workspace URL slugs: 3–40 of lowercase letters, digits and dashes, starting with a letter or digit. */
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$';
/**
 * Slugs a workspace cannot take: names the web app's own paths (or a reader) could mistake for
 * something of the deployment's.
 */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'admin',
  'api',
  'app',
  'apps',
  'auth',
  'c',
  'help',
  'invite',
  'join',
  'login',
  'new',
  'parley',
  'people',
  'settings',
  'signin',
  'signout',
  'signup',
  'static',
  'support',
  'system',
  'v1',
  'w',
  'www',
]);

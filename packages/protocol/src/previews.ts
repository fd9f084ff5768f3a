/**
 * Link previews on messages: the card the server makes for each of the first
 * `MAX_PREVIEWS` http(s) URLs of a message's text (Open Graph, Twitter cards, oEmbed, else
 * the page's `<title>`), and the request that removes one.
 *
 * A preview is not an attachment: it names no upload, counts toward no quota and belongs to
 * its message only. Its image was fetched by the server and re-hosted as WebP thumbnails, so
 * a client never loads anything from the linked site.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Uuid } from './ids.js';
import { SafeText } from './text.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** URLs of one message that get previews (the first ones, in the order of the text). */
export const MAX_PREVIEWS = 3;
/** Longest URL that is previewed. */
export const MAX_PREVIEW_URL = 2048;

/** A preview's image, re-hosted: paths of WebP thumbnails that need no credentials. */
export const PreviewImage = Type.Object({
  /** The largest thumbnail's path (`/v1/link-images/{app}/{id}?v=…`). */
  url: Type.String(),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  blurhash: Nullable(Type.String()),
  /** Thumbnail paths by longest side (`"360"`, `"1280"` when the image is that large). */
  thumbs: Type.Record(Type.String(), Type.String()),
});
export type PreviewImage = Static<typeof PreviewImage>;

/** One link's card. */
export const LinkPreview = Type.Object({
  /** The URL as the message's text has it: the key of the preview on its message. */
  url: Type.String(),
  /** Where the page ended up after redirects. */
  final_url: Type.String(),
  title: Nullable(Type.String()),
  description: Nullable(Type.String()),
  site_name: Nullable(Type.String()),
  /** `og:type` or the oEmbed type (`website`, `article`, `video`, `photo`, `rich` …) when given. */
  kind: Nullable(Type.String()),
  image: Nullable(PreviewImage),
});
export type LinkPreview = Static<typeof LinkPreview>;

/** The URL of a message's preview to remove (its `url`). */
export const PreviewUrl = SafeText({ maxLength: MAX_PREVIEW_URL });

/** `DELETE /v1/messages/{id}/previews?url=…` */
export const RemovePreviewQuery = Type.Object({ url: PreviewUrl }, { additionalProperties: false });
export type RemovePreviewQuery = Static<typeof RemovePreviewQuery>;

/** Parameters of `GET /v1/link-images/{app}/{id}`. */
export const LinkImageParams = Type.Object({ app: Uuid, id: Uuid });

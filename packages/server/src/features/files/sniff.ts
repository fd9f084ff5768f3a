/**
 * The content type of an upload, decided from its first bytes (magic numbers, `file-type`)
 * and never from its name or the client's header — those are only compared with it, and a
 * disagreement is flagged. What a browser would run or render as a page (HTML, SVG, XML,
 * JavaScript…) is an *active* type: always served as a download, never inline.
 */
import { extensionOf } from './names.js';

/** How many leading bytes are read to decide the type (what file-type needs). */
export const SNIFF_BYTES = 4100;

export interface Sniffed {
  mime: string;
  kind: 'image' | 'video' | 'audio' | 'file';
  /** The name's extension or the declared type disagrees with the bytes. */
  mismatch: boolean;
  /** Served inline (images, audio, video a browser plays); everything else is a download. */
  inline: boolean;
}

/** Types a browser shows without running anything: the only ones ever served inline. */
const INLINE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/x-wav',
  'audio/webm',
  'audio/aac',
  'audio/flac',
  'audio/x-flac',
  'audio/mp4',
  'text/plain',
]);

/** Extensions whose bytes carry no magic number, with the type they are taken for. */
const TEXT_TYPES: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/plain',
  csv: 'text/plain',
  log: 'text/plain',
  json: 'text/plain',
  yaml: 'text/plain',
  yml: 'text/plain',
};

/** Markup that a browser would render as a document: HTML, SVG, XML and friends. */
const ACTIVE_MARKUP = /^\s*(<\?xml|<!doctype\s+html|<html|<svg|<script|<head|<body|<iframe|<!--|<[a-z]+[\s>])/i;

function isUtf8Text(b: Buffer): boolean {
  if (b.includes(0)) return false;
  // A cut in the middle of a multi-byte character at the end of the sample is fine.
  const sample = b.length === SNIFF_BYTES ? b.subarray(0, b.length - 4) : b;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return true;
  } catch {
    return false;
  }
}

const kindOf = (mime: string): Sniffed['kind'] =>
  mime.startsWith('image/')
    ? 'image'
    : mime.startsWith('video/')
      ? 'video'
      : mime.startsWith('audio/')
        ? 'audio'
        : 'file';

/** Decide an upload's type from its first bytes, comparing it with its name and declared type. */
export async function sniff(head: Buffer, name: string, declared: string | undefined): Promise<Sniffed> {
  const ext = extensionOf(name);
  // ESM only, so imported here, at the first upload, rather than while the server starts.
  const { fileTypeFromBuffer } = await import('file-type');
  const found = await fileTypeFromBuffer(head);
  let mime: string;
  let extensions: string[];
  if (found) {
    mime = found.mime;
    // file-type names a type by one extension; its common spellings count as agreeing.
    extensions = [found.ext, ...(found.ext === 'jpg' ? ['jpeg', 'jpe'] : found.ext === 'tif' ? ['tiff'] : [])];
  } else if (isUtf8Text(head)) {
    const text = head.toString('utf8').replace(/^\uFEFF/, '');
    if (ACTIVE_MARKUP.test(text)) {
      mime = /<svg/i.test(text) ? 'image/svg+xml' : /^\s*<\?xml/i.test(text) ? 'application/xml' : 'text/html';
      extensions = mime === 'image/svg+xml' ? ['svg'] : mime === 'application/xml' ? ['xml'] : ['html', 'htm'];
    } else {
      mime = 'text/plain';
      extensions = Object.keys(TEXT_TYPES);
    }
  } else {
    mime = 'application/octet-stream';
    extensions = [];
  }
  const declaredBase = (declared ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const declaredAgrees =
    declaredBase === '' ||
    declaredBase === 'application/octet-stream' ||
    declaredBase === mime ||
    (mime === 'text/plain' && declaredBase.startsWith('text/') && !/html|xml|javascript/.test(declaredBase)) ||
    (mime === 'image/jpeg' && declaredBase === 'image/jpg');
  const extAgrees =
    ext === '' || extensions.includes(ext) || (mime === 'application/octet-stream' && !INLINE_EXT.has(ext));
  const mismatch = !declaredAgrees || !extAgrees;
  // A file whose name or header says something active (`.html`, `text/html`, `.js`) stays a
  // download even when its bytes look harmless.
  const claimsActive = ACTIVE_EXT.has(ext) || /html|xml|svg|javascript|ecmascript/.test(declaredBase);
  const inline = INLINE.has(mime) && !claimsActive && !mismatch;
  return { mime, kind: kindOf(mime) === 'image' && mime === 'image/svg+xml' ? 'file' : kindOf(mime), mismatch, inline };
}

/** Extensions that say "this is an image, video or sound" (so bytes that are not are a mismatch). */
const INLINE_EXT = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'webp',
  'avif',
  'bmp',
  'mp4',
  'webm',
  'mp3',
  'ogg',
  'wav',
  'svg',
]);
const ACTIVE_EXT = new Set(['html', 'htm', 'xhtml', 'svg', 'xml', 'js', 'mjs', 'xsl', 'xslt', 'shtml', 'php']);

/** Whether a stored file is shown inline (else it is always a download). */
export function servesInline(mime: string, name: string, mismatch: boolean): boolean {
  return INLINE.has(mime) && !mismatch && !ACTIVE_EXT.has(extensionOf(name));
}

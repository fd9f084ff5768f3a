/**
 * What a link's card says: the page is fetched through the SSRF-safe fetcher and read with
 * htmlparser2 (a streaming, forgiving HTML parser; no DOM is built), then its oEmbed document
 * if the page names one (`<link rel="alternate" type="application/json+oembed">`).
 *
 * Precedence, field by field: Open Graph, then Twitter card, then oEmbed, then plain HTML
 * (`<title>`, `<meta name="description">`). Only the `<head>` matters; parsing stops at
 * `<body>`'s first text past the metadata or at the size cap of the fetch.
 */
import { htmlparser2 } from '../../platform/lazy-deps.js';
import { type IconLink, iconUrlOf } from './favicon.js';
import { FetchRefused, type SafeFetchOptions, safeFetch } from './safe-fetch.js';

/** How much of a page is read for its metadata (the rest is never downloaded). */
export const PAGE_MAX_BYTES = 1024 * 1024;
/** Largest image fetched (a page's image, or a link straight to an image). */
export const IMAGE_MAX_BYTES = 5 * 1024 * 1024;
const OEMBED_MAX_BYTES = 64 * 1024;

const LIMITS = { title: 300, description: 1000, siteName: 100, kind: 40 } as const;

export interface PageMeta {
  finalUrl: string;
  title: string | null;
  description: string | null;
  siteName: string | null;
  kind: string | null;
  /** Absolute http(s) URL of the image the page names, to be fetched and re-hosted. */
  imageUrl: string | null;
  /** The site's icon (favicon.ts): the page's `<link rel="icon">`, else `/favicon.ico`. */
  iconUrl: string | null;
}

/**
 * Text a card may show: whitespace collapsed, control characters and lone surrogates gone
 * (PostgreSQL's jsonb stores no `\u0000`), cut to `max` characters. Empty → null.
 */
export function cleanText(raw: string | null | undefined, max: number): string | null {
  if (raw == null) return null;
  const t = raw
    // lone UTF-16 surrogates (a page's entities can make them)
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!t) return null;
  return t.length > max ? `${t.slice(0, max - 1).trimEnd()}…` : t;
}

/** An absolute http(s) URL from `raw` relative to `base`, or null. */
function absolute(raw: string | undefined, base: string): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

interface Head {
  meta: Map<string, string>;
  title: string;
  oembed: string | null;
  icons: IconLink[];
}

/** Read the metadata of an HTML document (first value of each property wins, as Facebook does). */
export function readHead(html: string): Head {
  const meta = new Map<string, string>();
  let title = '';
  let inTitle = false;
  let titleDone = false;
  let oembed: string | null = null;
  const icons: IconLink[] = [];
  const parser = new (htmlparser2().Parser)(
    {
      onopentag(name, attrs) {
        if (name === 'title' && !titleDone) inTitle = true;
        else if (name === 'meta') {
          const key = (attrs.property ?? attrs.name ?? '').trim().toLowerCase();
          const content = attrs.content;
          if (key && content !== undefined && !meta.has(key)) meta.set(key, content);
        } else if (name === 'link') {
          const rel = (attrs.rel ?? '').toLowerCase().split(/\s+/);
          const type = (attrs.type ?? '').toLowerCase().trim();
          if (!oembed && rel.includes('alternate') && type === 'application/json+oembed' && attrs.href)
            oembed = attrs.href;
          if (attrs.href && (rel.includes('icon') || rel.includes('apple-touch-icon')) && icons.length < 20)
            icons.push({ rel, href: attrs.href, sizes: attrs.sizes });
        }
      },
      ontext(text) {
        if (inTitle) title += text;
      },
      onclosetag(name) {
        if (name === 'title' && inTitle) {
          inTitle = false;
          titleDone = true;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { meta, title, oembed, icons };
}

/** The charset a response names (`Content-Type`, then `<meta charset>`), if TextDecoder knows it. */
function decode(body: Buffer, contentType: string): string {
  const fromHeader = /charset\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1];
  const sniffed =
    fromHeader ?? /<meta[^>]{0,200}charset\s*=\s*["']?([\w-]+)/i.exec(body.subarray(0, 2048).toString('latin1'))?.[1];
  if (sniffed) {
    try {
      return new TextDecoder(sniffed.toLowerCase()).decode(body);
    } catch {
      // an unknown label: UTF-8 below
    }
  }
  return new TextDecoder('utf-8').decode(body);
}

interface OEmbed {
  title?: unknown;
  author_name?: unknown;
  provider_name?: unknown;
  thumbnail_url?: unknown;
  url?: unknown;
  type?: unknown;
}

async function fetchOEmbed(href: string, opts: SafeFetchOptions): Promise<OEmbed | null> {
  try {
    const got = await safeFetch(href, { ...opts, maxBytes: OEMBED_MAX_BYTES, accept: 'application/json' });
    if (got.status !== 200) return null;
    const doc = JSON.parse(got.body.toString('utf8')) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as OEmbed) : null;
  } catch {
    // An oEmbed document that is missing, refused or not JSON leaves the page's own metadata.
    return null;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The result of reading a link: its card's fields, or a direct image. */
export type Unfurled = { type: 'page'; meta: PageMeta } | { type: 'image'; finalUrl: string; bytes: Buffer };

/**
 * Fetch `url` and read its card. A page without any of the fields gives a card with only
 * what it has (a title-only card when it has a `<title>`; nothing at all when not). Throws
 * FetchRefused when the page cannot be fetched or is not a page or an image.
 */
export async function unfurl(url: string, opts: SafeFetchOptions): Promise<Unfurled> {
  // Read up to the image limit (a link may be straight to an image), but stop there whatever
  // comes: a huge or endless page still gives its card from its start.
  const page = await safeFetch(url, {
    ...opts,
    maxBytes: IMAGE_MAX_BYTES,
    truncate: true,
    accept: 'text/html,application/xhtml+xml;q=0.9,image/*;q=0.8,*/*;q=0.1',
  });
  if (page.status < 200 || page.status >= 300) throw new FetchRefused('http', `The page answered ${page.status}`);
  const type = page.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('image/')) {
    if (page.truncated) throw new FetchRefused('too-large', 'The image is larger than previews fetch');
    return { type: 'image', finalUrl: page.url, bytes: page.body };
  }
  if (type !== 'text/html' && type !== 'application/xhtml+xml')
    throw new FetchRefused('http', `Not a page: ${type || 'no content type'}`);
  const head = readHead(decode(page.body.subarray(0, PAGE_MAX_BYTES), page.contentType));
  const m = (k: string) => head.meta.get(k);
  const oembedHref = absolute(head.oembed ?? undefined, page.url);
  const oe = oembedHref ? await fetchOEmbed(oembedHref, opts) : null;
  const oeImage = str(oe?.thumbnail_url) ?? (str(oe?.type) === 'photo' ? str(oe?.url) : undefined);
  const meta: PageMeta = {
    finalUrl: page.url,
    title: cleanText(m('og:title') ?? m('twitter:title') ?? str(oe?.title) ?? head.title, LIMITS.title),
    description: cleanText(m('og:description') ?? m('twitter:description') ?? m('description'), LIMITS.description),
    siteName: cleanText(m('og:site_name') ?? str(oe?.provider_name) ?? m('application-name'), LIMITS.siteName),
    kind: cleanText(m('og:type') ?? str(oe?.type), LIMITS.kind),
    imageUrl: absolute(
      m('og:image:secure_url') ??
        m('og:image') ??
        m('og:image:url') ??
        m('twitter:image') ??
        m('twitter:image:src') ??
        oeImage,
      page.url,
    ),
    iconUrl: iconUrlOf(head.icons, page.url),
  };
  return { type: 'page', meta };
}

/**
 * Link previews in the UI kit: a card per link the server unfurled (site, title linking to the
 * page, description, thumbnail), and for the message's author a button that removes it.
 *
 * Everything shown comes from our server: the thumbnail is the server's re-hosted WebP (a path
 * resolved against the server's URL; no credentials needed), never the linked site's image, so
 * showing a card tells the site nothing about who reads it.
 */
import type { LocalMessage } from '@parley/client';
import type { LinkPreview } from '@parley/protocol';
import { useState } from 'react';
import { useBlurhash } from './attachments.js';
import { useChannelContext } from './channel.js';
import { useChatClient, useMe } from './context.js';
import { cx } from './format.js';

/** The host of a URL (`example.com`), or the URL itself when it does not parse. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return url;
  }
}

/** Only web links are followed (the server previews nothing else, but a card never trusts that). */
function safeHref(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Props of {@link LinkPreviewCard}. */
export interface LinkPreviewCardProps {
  preview: LinkPreview;
  /** Shown as a remove button (for the message's author); omit to show none. */
  onRemove?(): void;
}

/** One link's card: site name (or host), title as a link to the page, description, thumbnail. */
export function LinkPreviewCard({ preview: p, onRemove }: LinkPreviewCardProps) {
  const client = useChatClient();
  const host = hostOf(p.final_url || p.url);
  const href = safeHref(p.url);
  const thumb = p.image ? (p.image.thumbs['360'] ?? p.image.url) : null;
  const placeholder = useBlurhash(p.image?.blurhash ?? null, p.image?.width ?? null, p.image?.height ?? null);
  const [loaded, setLoaded] = useState(false);
  const title = p.title ?? host;
  return (
    <div className={cx('parley-link-preview', thumb && 'parley-link-preview--image')} data-url={p.url}>
      <div className="parley-link-preview__text">
        <span className="parley-link-preview__site">{p.site_name ?? host}</span>
        {href ? (
          <a className="parley-link-preview__title" href={href} target="_blank" rel="noopener noreferrer nofollow ugc">
            {title}
          </a>
        ) : (
          <span className="parley-link-preview__title">{title}</span>
        )}
        {p.description ? <p className="parley-link-preview__description">{p.description}</p> : null}
      </div>
      {thumb ? (
        <span
          className="parley-link-preview__thumb"
          style={placeholder ? { backgroundImage: `url(${placeholder})` } : undefined}
        >
          <img
            src={client.http.resolve(thumb)}
            alt=""
            loading="lazy"
            referrerPolicy="no-referrer"
            className={cx('parley-link-preview__img', loaded && 'parley-link-preview__img--loaded')}
            onLoad={() => setLoaded(true)}
          />
        </span>
      ) : null}
      {onRemove ? (
        <button
          type="button"
          className="parley-link-preview__remove"
          aria-label={`Remove preview of ${host}`}
          title="Remove preview"
          onClick={onRemove}
        >
          ×
        </button>
      ) : null}
    </div>
  );
}

/** Props of {@link MessagePreviews}. */
export interface MessagePreviewsProps {
  message: LocalMessage;
}

/** A message's link cards; its author gets a remove button on each (`channel.removePreview`). */
export function MessagePreviews({ message: m }: MessagePreviewsProps) {
  const { channel } = useChannelContext();
  const me = useMe();
  const [error, setError] = useState<string | null>(null);
  const previews = m.previews ?? [];
  if (previews.length === 0 || m.type === 'deleted') return null;
  const mine = m.user_id === me && m.status === 'sent';
  return (
    <div className="parley-link-previews">
      {previews.map((p) => (
        <LinkPreviewCard
          key={p.url}
          preview={p}
          {...(mine
            ? {
                onRemove: () => {
                  setError(null);
                  channel
                    .removePreview(m.id, p.url)
                    .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
                },
              }
            : {})}
        />
      ))}
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

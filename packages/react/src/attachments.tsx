/**
 * Files in the UI kit: the composer's attach button and chosen files, a message's uploads in
 * progress (bar and Cancel), its images (blurhash placeholder, then the thumbnail), a lightbox
 * with keyboard navigation, and file cards (icon, name, size, download).
 *
 * Images and downloads use signed links (`POST /v1/files/links`), fetched in batches and
 * cached until shortly before they expire, since `<img src>` cannot send credentials.
 */
import type { ChatClient, LocalMessage, LocalUpload } from '@parley/client';
import type { Attachment } from '@parley/protocol';
import { decode } from 'blurhash';
import { type ChangeEvent, type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { useChannelContext } from './channel.js';
import { useChatClient } from './context.js';
import { cx } from './format.js';
import { FileIcon, MusicIcon, VideoIcon } from './icons.js';

/** Most files one message carries (as the server allows). */
export const MAX_FILES = 10;

/** `1.2 MB`, `340 KB`, `12 B`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
}

// ---- signed links --------------------------------------------------------------------------

interface Link {
  url: string;
  thumbs: Record<string, string>;
  expires: number;
}

/** One cache of signed links per client; ids asked for in the same tick go in one request. */
const caches = new WeakMap<ChatClient, LinkCache>();

class LinkCache {
  private readonly links = new Map<string, Link>();
  private readonly waiting = new Map<string, ((l: Link | null) => void)[]>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(private readonly client: ChatClient) {}

  /** A file's links; asked again when the cached ones lack a thumbnail made since (`thumbs`). */
  get(id: string, thumbs: readonly string[] = []): Promise<Link | null> {
    const l = this.links.get(id);
    // A minute of slack, so an image does not start loading with a link about to expire.
    if (l && l.expires - 60_000 > Date.now() && thumbs.every((t) => t in l.thumbs)) return Promise.resolve(l);
    return new Promise((resolve) => {
      const list = this.waiting.get(id) ?? [];
      list.push(resolve);
      this.waiting.set(id, list);
      this.timer ??= setTimeout(() => void this.flush(), 0);
    });
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const batch = new Map(this.waiting);
    this.waiting.clear();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += 100) {
      const part = ids.slice(i, i + 100);
      let got: Record<string, { url: string; thumbs: Record<string, string>; expires_at: string }> = {};
      try {
        got = (
          await this.client.http.call<{ links: typeof got }>('POST', '/v1/files/links', {
            ids: part,
          })
        ).links;
      } catch {
        // No links: the files show as cards without a download for now.
      }
      for (const id of part) {
        const g = got[id];
        const link = g
          ? {
              url: this.client.http.resolve(g.url),
              thumbs: Object.fromEntries(Object.entries(g.thumbs).map(([k, v]) => [k, this.client.http.resolve(v)])),
              expires: Date.parse(g.expires_at),
            }
          : null;
        if (link) this.links.set(id, link);
        for (const resolve of batch.get(id) ?? []) resolve(link);
      }
    }
  }
}

/** A file's signed links; null until they arrive (or when the caller may not read it). */
export function useFileLink(a: Attachment | null): Link | null {
  const client = useChatClient();
  const [link, setLink] = useState<Link | null>(null);
  const id = a?.id ?? null;
  const thumbKey = a ? Object.keys(a.thumbs).join(',') : '';
  useEffect(() => {
    if (!id) return;
    let cache = caches.get(client);
    if (!cache) {
      cache = new LinkCache(client);
      caches.set(client, cache);
    }
    let live = true;
    // New thumbnails (a message.updated) that the cached links lack are asked for again.
    void cache.get(id, thumbKey ? thumbKey.split(',') : []).then((l) => {
      if (live) setLink(l);
    });
    return () => {
      live = false;
    };
  }, [client, id, thumbKey]);
  return link;
}

// ---- blurhash --------------------------------------------------------------------------------

/** A blurhash as a small data URL (drawn once per hash). */
export function useBlurhash(hash: string | null, width: number | null, height: number | null): string | null {
  return useMemo(() => {
    if (!hash || typeof document === 'undefined') return null;
    try {
      const w = 32;
      const h = Math.max(1, Math.round(w * ((height ?? 1) / (width ?? 1))));
      const pixels = decode(hash, w, h);
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (!ctx) return null;
      const img = ctx.createImageData(w, h);
      img.data.set(pixels);
      ctx.putImageData(img, 0, 0);
      return canvas.toDataURL();
    } catch {
      return null;
    }
  }, [hash, width, height]);
}

// ---- a message's files -------------------------------------------------------------------

/** Props of {@link MessageAttachments}. */
export interface MessageAttachmentsProps {
  message: LocalMessage;
}

/** A message's files: uploads in progress, then images and file cards. */
export function MessageAttachments({ message: m }: MessageAttachmentsProps) {
  const [open, setOpen] = useState<number | null>(null);
  const uploads = m.status !== 'sent' ? (m.uploads ?? []) : [];
  const files = m.attachments ?? [];
  if (!uploads.length && !files.length) return null;
  const images = files.filter((a) => a.kind === 'image');
  return (
    <div className="parley-attachments">
      {uploads.length ? <UploadList message={m} uploads={uploads} /> : null}
      {!uploads.length && images.length ? (
        <div className="parley-attachments__images">
          {images.map((a, i) => (
            <ImageThumb key={a.id} attachment={a} onOpen={() => setOpen(i)} />
          ))}
        </div>
      ) : null}
      {!uploads.length
        ? files.filter((a) => a.kind !== 'image').map((a) => <FileCard key={a.id} attachment={a} />)
        : null}
      {open !== null && images.length ? (
        <Lightbox images={images} index={open} onIndex={setOpen} onClose={() => setOpen(null)} />
      ) : null}
    </div>
  );
}

function UploadList({ message: m, uploads }: { message: LocalMessage; uploads: readonly LocalUpload[] }) {
  const { channel } = useChannelContext();
  return (
    <ul className="parley-uploads" aria-label="Uploads">
      {uploads.map((u) => (
        <li key={u.id} className={cx('parley-upload', `parley-upload--${u.state}`)}>
          {u.preview && u.type.startsWith('image/') ? (
            <img className="parley-upload__preview" src={u.preview} alt="" />
          ) : null}
          <span className="parley-upload__name">{u.name}</span>
          <span className="parley-muted">{formatBytes(u.size)}</span>
          <progress className="parley-upload__bar" max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />
          {u.state === 'failed' ? <span className="parley-error">Upload failed</span> : null}
        </li>
      ))}
      <li>
        <button type="button" className="parley-link-button" onClick={() => channel.cancelSend(m.id)}>
          Cancel
        </button>
      </li>
    </ul>
  );
}

/** The displayed size of an image, at most `max` px on the longer side. */
function fit(a: Attachment, max: number): { width: number; height: number } {
  const w = a.width ?? max;
  const h = a.height ?? max;
  const scale = Math.min(1, max / Math.max(w, h));
  return { width: Math.round(w * scale), height: Math.round(h * scale) };
}

/**
 * An animated GIF up to this size plays in the message, as Slack's do (a `/giphy` answer, a
 * reaction GIF); its thumbnails are still frames. Larger ones show the still until opened.
 */
export const ANIMATE_GIF_MAX_BYTES = 8 * 1024 * 1024;

/** Whether a message shows the file itself rather than its still thumbnail. */
export const playsInline = (a: Attachment) => a.mime_type === 'image/gif' && a.size <= ANIMATE_GIF_MAX_BYTES;

function ImageThumb({ attachment: a, onOpen }: { attachment: Attachment; onOpen(): void }) {
  const link = useFileLink(a);
  const placeholder = useBlurhash(a.blurhash, a.width, a.height);
  const [loaded, setLoaded] = useState(false);
  const still = link ? (link.thumbs['360'] ?? (a.processing === 'pending' ? null : link.url)) : null;
  const src = link && playsInline(a) ? link.url : still;
  const size = fit(a, 360);
  return (
    <button
      type="button"
      className="parley-attachment-image"
      style={{
        width: size.width,
        height: size.height,
        ...(placeholder ? { backgroundImage: `url(${placeholder})` } : {}),
      }}
      onClick={onOpen}
      aria-label={`Open ${a.name}`}
      data-processing={a.processing}
    >
      {src ? (
        <img
          src={src}
          alt={a.name}
          width={size.width}
          height={size.height}
          className={cx('parley-attachment-image__img', loaded && 'parley-attachment-image__img--loaded')}
          onLoad={() => setLoaded(true)}
        />
      ) : null}
    </button>
  );
}

const ICONS: Record<string, typeof FileIcon> = { video: VideoIcon, audio: MusicIcon, file: FileIcon };

/** A file's card: icon, name, size and a download link. */
export function FileCard({ attachment: a }: { attachment: Attachment }) {
  const link = useFileLink(a);
  const KindIcon = ICONS[a.kind] ?? FileIcon;
  return (
    <div className="parley-file-card">
      <span className="parley-file-card__icon" aria-hidden="true">
        <KindIcon size={18} />
      </span>
      <span className="parley-file-card__name">{a.name}</span>
      <span className="parley-muted">{formatBytes(a.size)}</span>
      {a.type_mismatch ? (
        <span className="parley-error" title="Its name or type does not match its contents">
          ⚠ check before opening
        </span>
      ) : null}
      {link ? (
        <a className="parley-link-button" href={link.url} download={a.name} rel="noopener">
          Download
        </a>
      ) : null}
    </div>
  );
}

/** Props of {@link Lightbox}. */
export interface LightboxProps {
  images: readonly Attachment[];
  index: number;
  onIndex(i: number): void;
  onClose(): void;
}

/** Images full size; ←/→ move between them, Escape closes. */
export function Lightbox({ images, index, onIndex, onClose }: LightboxProps) {
  const a = images[index] ?? null;
  const link = useFileLink(a);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  if (!a) return null;
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') onClose();
    else if (e.key === 'ArrowRight' && index < images.length - 1) onIndex(index + 1);
    else if (e.key === 'ArrowLeft' && index > 0) onIndex(index - 1);
    else return;
    e.preventDefault();
  };
  const src = link ? (playsInline(a) ? link.url : (link.thumbs['1280'] ?? link.thumbs['360'] ?? link.url)) : null;
  return (
    <div
      ref={box}
      className="parley-lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={`${a.name} (${index + 1} of ${images.length})`}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      onClick={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      {src ? <img className="parley-lightbox__img" src={src} alt={a.name} /> : null}
      <div className="parley-lightbox__bar">
        <span>
          {a.name} · {index + 1}/{images.length}
        </span>
        {link ? (
          <a className="parley-link-button" href={link.url} download={a.name}>
            Download
          </a>
        ) : null}
        <button type="button" className="parley-link-button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

// ---- the composer's files ---------------------------------------------------------------------

const KIND_NAMES: Record<string, string> = { image: 'Images', video: 'Videos', audio: 'Audio files', file: 'Files' };

/** What a person reads when the app's upload rules refuse a file they chose. */
export function refusalText(file: File, err: { code: string; details?: unknown }): string {
  const d = (err.details ?? {}) as { allowed_types?: string[] | null; kind?: string; max_bytes?: number };
  if (err.code === 'INVALID_FILE_TYPE')
    return `“${file.name}” can't be shared here: only ${(d.allowed_types ?? []).join(', ')} may be uploaded.`;
  return `“${file.name}” is ${formatBytes(file.size)}: ${KIND_NAMES[d.kind ?? 'file'] ?? 'Files'} here may be at most ${formatBytes(d.max_bytes ?? 0)}.`;
}

/**
 * The app's upload rules as the file picker's `accept` (`image/*,application/pdf`), once read;
 * undefined while unknown or when every type is allowed.
 */
export function useUploadAccept(): string | undefined {
  const client = useChatClient() as ChatClient | undefined;
  const [accept, setAccept] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    client?.files
      ?.rules()
      .then((r) => {
        if (live) setAccept(r.rules.allowed_types?.join(',') || undefined);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [client]);
  return accept;
}

/**
 * Files chosen in the composer, before they are sent. A file the app's upload rules refuse (by
 * its type or size, as the browser knows them) is not added: `onRefused` hears why, at once,
 * instead of after its bytes went up (and an empty list when a choice was all taken).
 */
export function usePendingFiles(onRefused?: (messages: string[]) => void) {
  const client = useChatClient() as ChatClient | undefined;
  const [files, setFiles] = useState<File[]>([]);
  const keep = (list: File[]) => setFiles((cur) => [...cur, ...list].slice(0, MAX_FILES));
  return {
    files,
    add: (list: Iterable<File> | ArrayLike<File>) => {
      const chosen = Array.from(list);
      const files = client?.files;
      if (!files) return keep(chosen);
      void Promise.all(chosen.map(async (f) => ({ f, no: await files.check(f).catch(() => null) }))).then((r) => {
        keep(r.filter((x) => !x.no).map((x) => x.f));
        const refused = r.flatMap((x) => (x.no ? [refusalText(x.f, x.no)] : []));
        onRefused?.(refused);
      });
    },
    remove: (i: number) => setFiles((cur) => cur.filter((_, j) => j !== i)),
    clear: () => setFiles([]),
  };
}

/** The composer's attach button (a hidden file input behind it). */
export function AttachButton({
  onFiles,
  disabled,
  accept,
}: {
  onFiles(files: File[]): void;
  disabled?: boolean;
  /** The picker's filter: the app's allowed types (`useUploadAccept`). */
  accept?: string | undefined;
}) {
  const input = useRef<HTMLInputElement>(null);
  const onChange = (e: ChangeEvent<HTMLInputElement>) => {
    const list = Array.from(e.currentTarget.files ?? []);
    e.currentTarget.value = '';
    if (list.length) onFiles(list);
  };
  return (
    <>
      <button
        type="button"
        className="parley-button parley-input__attach"
        aria-label="Attach files"
        title="Attach files"
        disabled={disabled}
        onClick={() => input.current?.click()}
      >
        {/* Drawn, not the 📎 emoji: a machine without an emoji font showed an empty box. */}
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path
            d="M9 12.5l6.3-6.3a3 3 0 0 1 4.2 4.2l-8 8a5 5 0 0 1-7.1-7.1L12.2 3.5"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        accept={accept}
        onChange={onChange}
        data-testid="parley-file-input"
      />
    </>
  );
}

const keys = new WeakMap<File, string>();
let nextKey = 0;
/** A stable React key per chosen File object. */
function fileKey(f: File): string {
  let k = keys.get(f);
  if (!k) {
    k = `f${nextKey++}`;
    keys.set(f, k);
  }
  return k;
}

/** The chosen files above the composer's text box, each with a Remove button. */
export function PendingFiles({ files, onRemove }: { files: readonly File[]; onRemove(i: number): void }) {
  if (!files.length) return null;
  return (
    <ul className="parley-pending-files" aria-label="Files to send">
      {files.map((f, i) => (
        <li key={fileKey(f)} className="parley-pending-file">
          <span className="parley-pending-file__name">{f.name}</span>
          <span className="parley-muted">{formatBytes(f.size)}</span>
          <button
            type="button"
            className="parley-link-button"
            aria-label={`Remove ${f.name}`}
            onClick={() => onRemove(i)}
          >
            ✕
          </button>
        </li>
      ))}
    </ul>
  );
}

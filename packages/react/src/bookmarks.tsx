/**
 * `<BookmarksBar>`: a channel's header bookmarks (`client.bookmarks`), live; members with
 * `manage-bookmarks` add links, remove them and reorder them by dragging (or with Alt+←/→ on a
 * focused bookmark). `<ChannelFiles>`: the channel's Files tab, filterable by kind, images as a
 * gallery that opens the lightbox.
 */
import { keepLoading } from '@parley/client';
import type { Attachment, ChannelBookmark, FileLinksResponse } from '@parley/protocol';
import { type KeyboardEvent, useEffect, useState, useSyncExternalStore } from 'react';
import { FileCard, Lightbox, useFileLink } from './attachments.js';
import { useChatClient, useClientState } from './context.js';
import { cx } from './format.js';
import { FileIcon } from './icons.js';

const EMPTY: readonly ChannelBookmark[] = [];
const BOOKMARK_DRAG = 'application/x-parley-bookmark';

/** A channel's bookmarks from `client.bookmarks`, loaded on first use. */
export function useBookmarks(cid: string): readonly ChannelBookmark[] {
  const client = useChatClient();
  const get = () => client.bookmarks.state.get().byCid[cid] ?? EMPTY;
  const list = useSyncExternalStore((l) => client.bookmarks.state.subscribe(l), get, get);
  // Once per channel: after that `bookmarks.updated` keeps it (a remount asks nothing again).
  useEffect(
    () => keepLoading(() => (client.bookmarks.state.get().byCid[cid] ? Promise.resolve() : client.bookmarks.load(cid))),
    [client, cid],
  );
  return list;
}

/** Props of {@link BookmarksBar}. */
export interface BookmarksBarProps {
  cid: string;
  className?: string;
}

/** The channel's header bookmarks (see the module comment). Render inside `<ChatProvider>`. */
export function BookmarksBar({ cid, className }: BookmarksBarProps) {
  const client = useChatClient();
  const bookmarks = useBookmarks(cid);
  const canManage = useClientState(
    (s) => s.channels[cid]?.channel.own_capabilities?.includes('manage-bookmarks') ?? false,
  );
  const [adding, setAdding] = useState(false);
  const [url, setUrl] = useState('');
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const move = (id: string, to: number) => {
    const ids = bookmarks.map((b) => b.id).filter((x) => x !== id);
    ids.splice(Math.max(0, Math.min(to, ids.length)), 0, id);
    client.bookmarks.reorder(cid, ids).catch(fail);
  };
  const open = (b: ChannelBookmark) => {
    if (b.kind === 'link') return;
    // A file's bytes need credentials: a signed link, opened in a new tab.
    client.http
      .call<FileLinksResponse>('POST', '/v1/files/links', { ids: [b.file_id] })
      .then((r) => {
        const link = r.links[b.file_id as string];
        if (link) window.open(client.http.resolve(link.url), '_blank', 'noopener');
      })
      .catch(fail);
  };
  if (bookmarks.length === 0 && !canManage) return null;
  return (
    <nav className={cx('parley-bookmarks', className)} aria-label="Bookmarks">
      <ul className="parley-bookmarks__list">
        {bookmarks.map((b, i) => (
          <li
            key={b.id}
            className={cx('parley-bookmark', dragging === b.id && 'parley-bookmark--dragging')}
            draggable={canManage || undefined}
            data-bookmark-id={b.id}
            onDragStart={(e) => {
              e.dataTransfer.setData(BOOKMARK_DRAG, b.id);
              e.dataTransfer.effectAllowed = 'move';
              setDragging(b.id);
            }}
            onDragEnd={() => setDragging(null)}
            onDragOver={(e) => {
              if (dragging) e.preventDefault();
            }}
            onDrop={(e) => {
              e.preventDefault();
              const id = e.dataTransfer.getData(BOOKMARK_DRAG) || dragging;
              setDragging(null);
              if (id && id !== b.id) move(id, i);
            }}
          >
            {b.kind === 'link' ? (
              <a
                className="parley-bookmark__link"
                href={b.url}
                target="_blank"
                rel="noopener noreferrer"
                title={b.site_name ? `${b.title} — ${b.site_name}` : b.url}
                onKeyDown={(e: KeyboardEvent) => {
                  if (!canManage || !e.altKey) return;
                  if (e.key === 'ArrowLeft' && i > 0) move(b.id, i - 1);
                  else if (e.key === 'ArrowRight' && i < bookmarks.length - 1) move(b.id, i + 1);
                  else return;
                  e.preventDefault();
                }}
              >
                {b.icon_url ? (
                  <img className="parley-bookmark__icon" src={client.http.resolve(b.icon_url)} alt="" />
                ) : (
                  <span className="parley-bookmark__icon" aria-hidden="true">
                    ↗
                  </span>
                )}
                <span>{b.title}</span>
              </a>
            ) : (
              <button type="button" className="parley-bookmark__link" onClick={() => open(b)}>
                <span className="parley-bookmark__icon" aria-hidden="true">
                  <FileIcon />
                </span>
                <span>{b.title}</span>
              </button>
            )}
            {canManage ? (
              <button
                type="button"
                className="parley-bookmark__remove"
                aria-label={`Remove bookmark ${b.title}`}
                onClick={() => void client.bookmarks.remove(cid, b.id).catch(fail)}
              >
                ×
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {canManage && !adding ? (
        <button type="button" className="parley-bookmarks__add" onClick={() => setAdding(true)}>
          + Add a bookmark
        </button>
      ) : null}
      {adding ? (
        <form
          className="parley-bookmarks__form"
          aria-label="Add a bookmark"
          onSubmit={(e) => {
            e.preventDefault();
            setError(null);
            const t = title.trim();
            client.bookmarks
              .add(cid, { url: url.trim(), ...(t ? { title: t } : {}) })
              .then(() => {
                setAdding(false);
                setUrl('');
                setTitle('');
              })
              .catch(fail);
          }}
        >
          <input
            className="parley-input"
            aria-label="Link"
            placeholder="https://…"
            type="url"
            required
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
          <input
            className="parley-input"
            aria-label="Title (optional)"
            placeholder="Title (optional)"
            maxLength={200}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
          />
          <button type="submit" className="parley-button parley-button--small">
            Add
          </button>
          <button type="button" className="parley-button parley-button--small" onClick={() => setAdding(false)}>
            Cancel
          </button>
        </form>
      ) : null}
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
      ) : null}
    </nav>
  );
}

const KINDS: [Attachment['kind'] | null, string][] = [
  [null, 'All'],
  ['image', 'Images'],
  ['video', 'Videos'],
  ['audio', 'Audio'],
  ['file', 'Other files'],
];

function Thumb({ a, onOpen }: { a: Attachment; onOpen(): void }) {
  const link = useFileLink(a);
  const src = link ? (link.thumbs['360'] ?? link.url) : null;
  return (
    <button type="button" className="parley-gallery__item" aria-label={`Open ${a.name}`} onClick={onOpen}>
      {src ? <img src={src} alt="" loading="lazy" /> : null}
    </button>
  );
}

/** Props of {@link ChannelFiles}. */
export interface ChannelFilesProps {
  cid: string;
  className?: string;
}

/** The channel's Files tab (see the module comment). */
export function ChannelFiles({ cid, className }: ChannelFilesProps) {
  const client = useChatClient();
  const [kind, setKind] = useState<Attachment['kind'] | null>(null);
  const [files, setFiles] = useState<Attachment[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const lastSeq = useClientState((s) => s.channels[cid]?.lastSeq ?? 0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new message may carry new files
  useEffect(() => {
    let live = true;
    client.bookmarks
      .files(cid, kind ? { kind } : {})
      .then((r) => {
        if (!live) return;
        setFiles(r.files);
        setNext(r.next ?? null);
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [client, cid, kind, lastSeq]);
  const more = () => {
    if (!next) return;
    client.bookmarks
      .files(cid, { ...(kind ? { kind } : {}), cursor: next })
      .then((r) => {
        setFiles((f) => [...(f ?? []), ...r.files]);
        setNext(r.next ?? null);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  const images = (files ?? []).filter((f) => f.kind === 'image');
  return (
    <div className={cx('parley-files', className)}>
      <fieldset className="parley-files__kinds">
        <legend className="parley-sr-only">Show</legend>
        {KINDS.map(([k, label]) => (
          <button
            key={label}
            type="button"
            className={cx('parley-chip', kind === k && 'parley-chip--on')}
            aria-pressed={kind === k}
            onClick={() => setKind(k)}
          >
            {label}
          </button>
        ))}
      </fieldset>
      {error ? (
        <p className="parley-error" role="alert">
          {error}
        </p>
      ) : files === null ? (
        <p className="parley-muted">Loading…</p>
      ) : files.length === 0 ? (
        <p className="parley-muted">No files shared here{kind ? ' of this kind' : ''} yet.</p>
      ) : (
        <>
          {images.length > 0 ? (
            <section className="parley-gallery" aria-label="Images">
              {images.map((a, i) => (
                <Thumb key={a.id} a={a} onOpen={() => setViewing(i)} />
              ))}
            </section>
          ) : null}
          <ul className="parley-files__list" aria-label="Files">
            {files
              .filter((f) => f.kind !== 'image')
              .map((a) => (
                <li key={a.id}>
                  <FileCard attachment={a} />
                </li>
              ))}
          </ul>
          {next ? (
            <button type="button" className="parley-button" onClick={more}>
              Show more
            </button>
          ) : null}
        </>
      )}
      {viewing !== null ? (
        <Lightbox images={images} index={viewing} onIndex={setViewing} onClose={() => setViewing(null)} />
      ) : null}
    </div>
  );
}

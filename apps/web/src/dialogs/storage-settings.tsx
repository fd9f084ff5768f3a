/**
 * Storage: how much of your storage quota your files and pictures take, from the same numbers
 * the server refuses an upload by (`GET /v1/me/storage`); the workspace's total beside it for
 * admins, or for everyone when the workspace has a quota of its own (an upload can hit it).
 * Below, your largest files (`GET /v1/me/files`), each leading to the message that carries it,
 * where deleting the message frees its space.
 */
import type { QuotaUse, StorageKind, StorageUse, StoredFile } from '@parley/protocol';
import { formatBytes, useChatClient, useClientState } from '@parley/react';
import { useEffect, useId, useState } from 'react';
import { useMeUser } from '../hooks/use-me.js';

const KIND_LABELS: Record<StorageKind, [one: string, many: string]> = {
  image: ['image', 'images'],
  video: ['video', 'videos'],
  audio: ['audio file', 'audio files'],
  file: ['file', 'files'],
  picture: ['profile picture', 'profile pictures'],
};

/** "1.2 MB of 10.0 GB used (12%)", or "1.2 MB used · unlimited" when there is no quota. */
function usedOf(q: QuotaUse): string {
  if (q.limit_bytes === null) return `${formatBytes(q.used_bytes)} used · unlimited`;
  return `${formatBytes(q.used_bytes)} of ${formatBytes(q.limit_bytes)} used (${percent(q)})`;
}

function percent(q: QuotaUse): string {
  const share = q.limit_bytes ? q.used_bytes / q.limit_bytes : 0;
  // Never "0%" for something stored, never "100%" before it is full.
  if (share > 0 && share < 0.01) return 'under 1%';
  if (share < 1 && share > 0.99) return '99%';
  return `${Math.round(share * 100)}%`;
}

/** A bar of one quota's use: a native meter, read out with the same words as the text. */
function Meter({ label, q }: { label: string; q: QuotaUse & { limit_bytes: number } }) {
  const value = Math.min(q.used_bytes, q.limit_bytes);
  // Nearly full shows in the danger colour: the next upload may be refused.
  const nearlyFull = value / q.limit_bytes >= 0.9;
  return (
    <meter
      className={`app-storage__meter${nearlyFull ? ' app-storage__meter--full' : ''}`}
      aria-label={label}
      aria-valuetext={usedOf(q)}
      min={0}
      max={q.limit_bytes}
      value={value}
    >
      {usedOf(q)}
    </meter>
  );
}

/** Files shown at first, and added by each "Show more". */
const FILES_PAGE = 5;

/** Your largest files, a page at a time, each with a way to its message. */
function LargestFiles({ onOpenMessage }: { onOpenMessage?: (cid: string, messageId: string) => void }) {
  const client = useChatClient();
  const channels = useClientState((s) => s.channels);
  const [files, setFiles] = useState<StoredFile[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor: string | null) => {
    setBusy(true);
    try {
      const page = await client.listMyFiles({ cursor, limit: FILES_PAGE });
      setFiles((had) => [...(cursor ? (had ?? []) : []), ...page.files]);
      setNext(page.next);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: read once when the dialog opens
  useEffect(() => {
    void load(null);
  }, [client]);

  if (error)
    return (
      <p className="app-form__error" role="alert">
        {error}
      </p>
    );
  if (!files || files.length === 0) return null;
  return (
    <div className="app-storage__files">
      <h4 className="app-storage__label">Largest files</h4>
      <ul className="app-storage__list" aria-label="Largest files">
        {files.map((f) => {
          const where = channels[f.cid]?.channel.name;
          return (
            <li key={f.id} className="app-storage__file">
              <span className="app-storage__name" title={f.name}>
                {f.name}
              </span>
              <span className="app-storage__size">{formatBytes(f.size)}</span>
              <span className="app-muted app-storage__where">
                {where ? `${f.cid.startsWith('public:') ? '#' : ''}${where} · ` : ''}
                {new Date(f.created_at).toLocaleDateString(undefined, { dateStyle: 'medium' })}
              </span>
              {f.message_id && onOpenMessage ? (
                <button
                  type="button"
                  className="app-button app-button--small"
                  aria-label={`Show the message with ${f.name}`}
                  onClick={() => onOpenMessage(f.cid, f.message_id as string)}
                >
                  Show
                </button>
              ) : f.message_id ? null : (
                <span className="app-muted">not sent</span>
              )}
            </li>
          );
        })}
      </ul>
      {next ? (
        <button type="button" className="app-button app-button--small" disabled={busy} onClick={() => load(next)}>
          Show more
        </button>
      ) : null}
    </div>
  );
}

export function StorageSettings({
  onOpenMessage,
}: {
  /** Show a message in its conversation (the dialog closes). */
  onOpenMessage?: (cid: string, messageId: string) => void;
} = {}) {
  const client = useChatClient();
  const me = useMeUser();
  const id = useId();
  const [use, setUse] = useState<StorageUse | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Read when the dialog opens: the numbers move only with your own uploads and deletions.
  useEffect(() => {
    let live = true;
    client
      .getStorageUse()
      .then((u) => live && setUse(u))
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [client]);

  const kinds = use ? (Object.keys(KIND_LABELS) as StorageKind[]).filter((k) => use.user.by_kind[k].count > 0) : [];
  const showApp = use !== null && (me?.role === 'admin' || use.app.limit_bytes !== null);

  return (
    <section className="app-settings__section app-storage" aria-labelledby={`${id}-title`} data-testid="storage">
      <h3 id={`${id}-title`} className="app-section-title">
        Storage
      </h3>
      {use ? (
        <>
          <p className="app-storage__line" data-testid="storage-user">
            <span className="app-storage__label">Your files</span>
            <span>{usedOf(use.user)}</span>
          </p>
          {use.user.limit_bytes !== null ? (
            <Meter label="Your storage" q={{ ...use.user, limit_bytes: use.user.limit_bytes }} />
          ) : null}
          <p className="app-field__hint" data-testid="storage-kinds">
            {kinds.length
              ? `${kinds
                  .map((k) => {
                    const { count, bytes } = use.user.by_kind[k];
                    return `${count} ${KIND_LABELS[k][count === 1 ? 0 : 1]} (${formatBytes(bytes)})`;
                  })
                  .join(' · ')}.`
              : 'Nothing stored yet.'}{' '}
            Deleting a message frees the space its files take.
          </p>
          <LargestFiles onOpenMessage={onOpenMessage} />
          {showApp ? (
            <>
              <p className="app-storage__line" data-testid="storage-app">
                <span className="app-storage__label">Whole workspace</span>
                <span>{usedOf(use.app)}</span>
              </p>
              {use.app.limit_bytes !== null ? (
                <Meter label="Workspace storage" q={{ ...use.app, limit_bytes: use.app.limit_bytes }} />
              ) : null}
            </>
          ) : null}
        </>
      ) : error ? null : (
        <p className="app-muted">Loading…</p>
      )}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}

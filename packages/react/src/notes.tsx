/**
 * Notes in the kit (issue #36): `NotesPanel` lists personal notes (no `cid`) or a channel's
 * notes and opens one in `NoteEditor`: the Markdown rendered by the same renderer as messages,
 * an editor (a textarea beside a live preview), the history with who wrote each version, and —
 * when someone else changed the same lines meanwhile — `NoteConflict`, which shows both texts
 * and lets the person keep theirs, take the other, or edit a merge.
 *
 * Every save names the version the edit started from (`base_version`): the server merges edits
 * to other lines on its own, so a conflict is only ever about the same lines.
 */
import { conflictOf, keepLoading, type NotesState } from '@parley/client';
import type { Note, NoteConflict as NoteConflictDetails, NoteVersion } from '@parley/protocol';
import { type FormEvent, useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { useChatClient, useClientState, useMe } from './context.js';
import { displayName, relativeTime } from './format.js';
import { Markdown } from './markdown.js';

/** The notes state of the client, as a React value. */
function useNotes<T>(select: (s: NotesState) => T): T {
  const client = useChatClient();
  const subscribe = useCallback((f: () => void) => client.notes.state.subscribe(f), [client]);
  return useSyncExternalStore(
    subscribe,
    () => select(client.notes.state.get()),
    () => select(client.notes.state.get()),
  );
}

/** Ids whose profile this client was already asked to load (once each, whatever the answer). */
const asked = new WeakMap<object, Set<string>>();

/** A person's name; loads the profile of someone the client has not met (a past editor). */
function Who({ id }: { id: string }) {
  const client = useChatClient();
  const user = useClientState((s) => s.users[id]);
  useEffect(() => {
    if (user) return;
    const seen = asked.get(client) ?? new Set<string>();
    asked.set(client, seen);
    if (seen.has(id)) return;
    seen.add(id);
    client.profiles.get(id).catch(() => {});
  }, [client, id, user]);
  return <>{displayName(user, id)}</>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface NotesPanelProps {
  /** A channel's notes; without it, the connected user's personal notes. */
  cid?: string | null;
  /** Offer creating and editing (a channel's `edit-channel-notes`); default true. */
  canEdit?: boolean;
  /** A note to open at once (an inbox item's `note_id`). */
  openNoteId?: string | null;
}

/** A list of notes with "New note", opening one in place. */
export function NotesPanel({ cid = null, canEdit = true, openNoteId = null }: NotesPanelProps) {
  const client = useChatClient();
  const notes = useNotes((s) => (cid ? s.channels[cid] : s.personal));
  const [openId, setOpenId] = useState<string | null>(openNoteId);
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [following, setFollowing] = useState<boolean | null>(null);

  useEffect(() => {
    setOpenId(openNoteId);
    return keepLoading(
      async () => {
        await client.notes.list(cid ?? undefined);
        setError(null);
      },
      { onError: (e) => setError(message(e)) },
    );
  }, [client, cid, openNoteId]);
  useEffect(() => {
    setFollowing(null);
    if (cid)
      client.notes
        .subscribed(cid)
        .then(setFollowing)
        .catch(() => {});
  }, [client, cid]);
  const toggleFollow = () => {
    if (!cid || following === null) return;
    // Shown at once; put back if the server refuses.
    const was = following;
    setFollowing(!was);
    client.notes
      .subscribe(cid, !was)
      .then(setFollowing)
      .catch((e: unknown) => {
        setFollowing(was);
        setError(message(e));
      });
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return;
    try {
      const note = await client.notes.create({ title: title.trim(), ...(cid ? { cid } : {}) });
      setTitle('');
      setOpenId(note.id);
    } catch (err) {
      setError(message(err));
    }
  };

  const open = openId ? notes?.find((n) => n.id === openId) : undefined;
  const label = cid ? 'Channel notes' : 'My notes';
  if (open)
    return (
      <section className="parley-notes" aria-label={label}>
        <NoteEditor note={open} canEdit={canEdit} onClose={() => setOpenId(null)} />
      </section>
    );
  return (
    <section className="parley-notes" aria-label={label}>
      {error && (
        <p className="parley-notes__error" role="alert">
          {error}
        </p>
      )}
      {cid && following !== null ? (
        <label className="parley-notes__follow">
          <input type="checkbox" checked={following} onChange={toggleFollow} /> Follow changes to these notes (in
          Activity)
        </label>
      ) : null}
      {canEdit && (
        <form className="parley-notes__new" onSubmit={create}>
          <input
            aria-label="New note title"
            placeholder="New note title"
            value={title}
            maxLength={200}
            onChange={(e) => setTitle(e.target.value)}
          />
          <button type="submit" disabled={!title.trim()}>
            New note
          </button>
        </form>
      )}
      {!notes ? (
        <p className="parley-notes__muted">Loading…</p>
      ) : notes.length === 0 ? (
        <p className="parley-notes__muted">No notes yet.</p>
      ) : (
        <ul className="parley-notes__list">
          {notes.map((n) => (
            <li key={n.id}>
              <button type="button" className="parley-notes__item" onClick={() => setOpenId(n.id)}>
                <strong>{n.title}</strong>
                <span className="parley-notes__muted">
                  {relativeTime(n.updated_at)} · <Who id={n.updated_by} />
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export interface NoteEditorProps {
  note: Note;
  canEdit?: boolean;
  onClose?: () => void;
}

type Mode =
  | { kind: 'view' }
  | { kind: 'edit'; base: number; title: string; text: string }
  | { kind: 'conflict'; conflict: NoteConflictDetails }
  | { kind: 'history'; versions: NoteVersion[] | null; shown: NoteVersion | null };

/** One note: read (Markdown), edit with a preview, history, and conflict resolution. */
export function NoteEditor({ note, canEdit = true, onClose }: NoteEditorProps) {
  const client = useChatClient();
  const me = useMe();
  const [mode, setMode] = useState<Mode>({ kind: 'view' });
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (base: number, title: string, text: string) => {
    setBusy(true);
    setError(null);
    try {
      const r = await client.notes.update(note.id, { base_version: base, title, text });
      setNotice(r.merged ? 'Saved, merged with changes made meanwhile.' : 'Saved.');
      setMode({ kind: 'view' });
    } catch (err) {
      const conflict = conflictOf(err);
      if (conflict) setMode({ kind: 'conflict', conflict });
      else setError(message(err));
    } finally {
      setBusy(false);
    }
  };

  const history = async () => {
    setMode({ kind: 'history', versions: null, shown: null });
    try {
      const versions = await client.notes.versions(note.id);
      setMode({ kind: 'history', versions, shown: null });
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <article className="parley-note" aria-label={note.title}>
      <header className="parley-note__header">
        {onClose && (
          <button type="button" onClick={onClose} aria-label="Back to notes">
            ←
          </button>
        )}
        <h3 className="parley-note__title">{mode.kind === 'edit' ? 'Editing' : note.title}</h3>
        <span className="parley-notes__muted">
          v{note.version} · <Who id={note.updated_by} />
        </span>
        {mode.kind === 'view' && (
          <>
            {canEdit && (
              <button
                type="button"
                onClick={() => {
                  setNotice(null);
                  setMode({ kind: 'edit', base: note.version, title: note.title, text: note.text });
                }}
              >
                Edit
              </button>
            )}
            <button type="button" onClick={history}>
              History
            </button>
          </>
        )}
      </header>
      {notice && mode.kind === 'view' && (
        <p className="parley-notes__notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="parley-notes__error" role="alert">
          {error}
        </p>
      )}
      {mode.kind === 'view' &&
        (note.text ? (
          <div className="parley-note__body">
            <Markdown text={note.text} me={me} />
          </div>
        ) : (
          <p className="parley-notes__muted">Empty note.</p>
        ))}
      {mode.kind === 'edit' && (
        <form
          className="parley-note__edit"
          onSubmit={(e) => {
            e.preventDefault();
            void save(mode.base, mode.title, mode.text);
          }}
        >
          <input
            aria-label="Note title"
            value={mode.title}
            maxLength={200}
            onChange={(e) => setMode({ ...mode, title: e.target.value })}
          />
          <div className="parley-note__split">
            <textarea
              aria-label="Note text (Markdown)"
              value={mode.text}
              rows={14}
              onChange={(e) => setMode({ ...mode, text: e.target.value })}
            />
            <section className="parley-note__preview" aria-label="Preview">
              <Markdown text={mode.text} me={me} />
            </section>
          </div>
          <div className="parley-note__actions">
            <button type="submit" disabled={busy || !mode.title.trim()}>
              Save
            </button>
            <button type="button" onClick={() => setMode({ kind: 'view' })}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {mode.kind === 'conflict' && (
        <NoteConflict
          conflict={mode.conflict}
          busy={busy}
          onKeepMine={() => void save(mode.conflict.note.version, mode.conflict.title, mode.conflict.text)}
          onTakeTheirs={() => {
            setNotice('Kept their version.');
            setMode({ kind: 'view' });
          }}
          onEditMerge={() =>
            setMode({
              kind: 'edit',
              base: mode.conflict.note.version,
              title: mode.conflict.title,
              text: mergeDraft(mode.conflict.text, mode.conflict.note.text),
            })
          }
        />
      )}
      {mode.kind === 'history' && (
        <section className="parley-note__history" aria-label="History">
          <button type="button" onClick={() => setMode({ kind: 'view' })}>
            Close history
          </button>
          {!mode.versions ? (
            <p className="parley-notes__muted">Loading…</p>
          ) : (
            <ol className="parley-notes__list">
              {mode.versions.map((v) => (
                <li key={v.version}>
                  <button
                    type="button"
                    className="parley-notes__item"
                    aria-pressed={mode.shown?.version === v.version}
                    onClick={() => setMode({ ...mode, shown: v })}
                  >
                    <strong>v{v.version}</strong> <Who id={v.user_id} />
                    <span className="parley-notes__muted">
                      {' '}
                      · {relativeTime(v.created_at)}
                      {v.merged ? ' · merged' : ''}
                    </span>
                  </button>
                </li>
              ))}
            </ol>
          )}
          {mode.shown && (
            <section className="parley-note__body" aria-label={`Version ${mode.shown.version}`}>
              <h4>{mode.shown.title}</h4>
              <Markdown text={mode.shown.text} me={me} />
            </section>
          )}
        </section>
      )}
    </article>
  );
}

/** A starting point for a hand merge: both texts, marked as diff3 marks them. */
export function mergeDraft(mine: string, theirs: string): string {
  return `<<<<<<< yours\n${mine}\n=======\n${theirs}\n>>>>>>> theirs`;
}

export interface NoteConflictProps {
  conflict: NoteConflictDetails;
  busy?: boolean;
  onKeepMine: () => void;
  onTakeTheirs: () => void;
  onEditMerge: () => void;
}

/** Both texts side by side, and the three ways out. */
export function NoteConflict({ conflict, busy, onKeepMine, onTakeTheirs, onEditMerge }: NoteConflictProps) {
  return (
    <section className="parley-note__conflict" aria-label="Conflict">
      <p role="alert">
        <Who id={conflict.note.updated_by} /> changed the same lines while you were editing (now v
        {conflict.note.version}).
      </p>
      <div className="parley-note__split">
        <figure>
          <figcaption>Your version</figcaption>
          <pre data-testid="conflict-mine">{conflict.text}</pre>
        </figure>
        <figure>
          <figcaption>
            Their version (<Who id={conflict.note.updated_by} />)
          </figcaption>
          <pre data-testid="conflict-theirs">{conflict.note.text}</pre>
        </figure>
      </div>
      <div className="parley-note__actions">
        <button type="button" disabled={busy} onClick={onKeepMine}>
          Keep mine
        </button>
        <button type="button" disabled={busy} onClick={onTakeTheirs}>
          Take theirs
        </button>
        <button type="button" disabled={busy} onClick={onEditMerge}>
          Edit a merge
        </button>
      </div>
    </section>
  );
}

/**
 * Notes in the SDK (`client.notes`): personal notes and channel notes (issue #36). `list()`
 * loads my personal notes, `list(cid)` a channel's; both stay live from the socket
 * (`personal_note.*` from my other devices, `note.*` for channels I am in or watch).
 *
 * Edits carry the version they started from. `update()` answers `{ note, merged }` when the
 * server took it (merged with others' edits to other lines), and throws a ParleyError with
 * code CONFLICT when someone changed the same lines: `conflictOf(err)` gives the note as it
 * stands and the text you sent, so an app can show both and let the person choose.
 */
import type {
  CreateNoteBody,
  Note,
  NoteConflict,
  NoteResponse,
  NoteSubscriptionResponse,
  NotesResponse,
  NoteVersion,
  NoteVersionResponse,
  NoteVersionsResponse,
  ServerEvent,
  UpdateNoteBody,
} from '@parley/protocol';
import { ParleyError } from './errors.js';
import type { Http } from './http.js';
import { Store } from './store.js';

export interface NotesState {
  /** My personal notes (after `list()`), latest edited first. */
  personal: Note[];
  /** Channel notes by cid (after `list(cid)`), latest edited first. */
  channels: Record<string, Note[]>;
}

const byRecent = (a: Note, b: Note) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0);

/** Put `note` into `list` unless the list already has it at the same or a newer version; drop it when deleted. */
function place(list: Note[], note: Note): Note[] {
  const old = list.find((n) => n.id === note.id);
  if (note.deleted_at) return old ? list.filter((n) => n.id !== note.id) : list;
  if (old && old.version >= note.version) return list;
  return [note, ...list.filter((n) => n.id !== note.id)].sort(byRecent);
}

/** The details of a CONFLICT answered to `update()`, or null for any other error. */
export function conflictOf(err: unknown): NoteConflict | null {
  if (!(err instanceof ParleyError) || err.code !== 'CONFLICT') return null;
  const d = err.details as Partial<NoteConflict> | undefined;
  return d?.note && typeof d.text === 'string' ? (d as NoteConflict) : null;
}

export class Notes {
  readonly state = new Store<NotesState>({ personal: [], channels: {} });

  constructor(private readonly http: Http) {}

  /** My personal notes, or with `cid` that channel's; kept in `state` and live from then on. */
  async list(cid?: string): Promise<Note[]> {
    const path = cid ? `/v1/notes?cid=${encodeURIComponent(cid)}` : '/v1/notes';
    const r = await this.http.call<NotesResponse>('GET', path);
    this.state.update((s) =>
      cid ? { ...s, channels: { ...s.channels, [cid]: r.notes } } : { ...s, personal: r.notes },
    );
    return r.notes;
  }

  /** One note I may read. */
  async get(id: string): Promise<Note> {
    const r = await this.http.call<NoteResponse>('GET', `/v1/notes/${id}`);
    this.put(r.note);
    return r.note;
  }

  /** Create a personal note, or a channel note with `cid`. */
  async create(body: CreateNoteBody): Promise<Note> {
    const r = await this.http.call<NoteResponse>('POST', '/v1/notes', body);
    this.put(r.note);
    return r.note;
  }

  /** Save an edit made from `base_version`; throws CONFLICT (see `conflictOf`) when it clashes. */
  async update(id: string, body: UpdateNoteBody): Promise<{ note: Note; merged: boolean }> {
    const r = await this.http.call<NoteResponse>('PATCH', `/v1/notes/${id}`, body);
    this.put(r.note);
    return { note: r.note, merged: r.merged ?? false };
  }

  /** Delete a note. */
  async remove(id: string): Promise<Note> {
    const r = await this.http.call<NoteResponse>('DELETE', `/v1/notes/${id}`);
    this.put(r.note);
    return r.note;
  }

  /** Its versions, newest first, each with who wrote it. */
  async versions(id: string): Promise<NoteVersion[]> {
    return (await this.http.call<NoteVersionsResponse>('GET', `/v1/notes/${id}/versions`)).versions;
  }

  /** One old version. */
  async version(id: string, version: number): Promise<NoteVersion> {
    return (await this.http.call<NoteVersionResponse>('GET', `/v1/notes/${id}/versions/${version}`)).version;
  }

  /** Notes I may read whose title or text contains `q`. */
  async search(q: string, limit?: number): Promise<Note[]> {
    const qs = new URLSearchParams({ q, ...(limit ? { limit: String(limit) } : {}) });
    return (await this.http.call<NotesResponse>('GET', `/v1/notes/search?${qs}`)).notes;
  }

  /**
   * Whether I follow the notes of channel `cid`: a follower gets an inbox item (`note_updated`)
   * when someone else makes or edits a note there.
   */
  async subscribed(cid: string): Promise<boolean> {
    const path = `/v1/channels/${encodeURIComponent(cid)}/notes/subscription`;
    return (await this.http.call<NoteSubscriptionResponse>('GET', path)).subscribed;
  }

  /** Follow (default) or stop following (`on` false) the notes of channel `cid`. */
  async subscribe(cid: string, on = true): Promise<boolean> {
    const path = `/v1/channels/${encodeURIComponent(cid)}/notes/subscription`;
    return (await this.http.call<NoteSubscriptionResponse>(on ? 'PUT' : 'DELETE', path)).subscribed;
  }

  /** @internal The client routes note events here. */
  onEvent(e: ServerEvent): void {
    if (
      e.type === 'note.updated' ||
      e.type === 'note.deleted' ||
      e.type === 'personal_note.updated' ||
      e.type === 'personal_note.deleted'
    )
      this.put(e.note);
  }

  private put(note: Note): void {
    this.state.update((s) => {
      if (note.cid === null) {
        const personal = place(s.personal, note);
        return personal === s.personal ? s : { ...s, personal };
      }
      const list = s.channels[note.cid];
      if (!list) return s; // not loaded: `list(cid)` brings it
      const next = place(list, note);
      return next === list ? s : { ...s, channels: { ...s.channels, [note.cid]: next } };
    });
  }
}

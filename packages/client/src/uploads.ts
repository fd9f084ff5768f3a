/**
 * Sends with files: the files upload first (over HTTP, with progress), then the message goes
 * through the outbox like any other, carrying the uploaded ids. Meanwhile the message shows at
 * once as `sending`, with each file's progress (and, in browsers, a preview of the local file)
 * in `uploads`. Cancelling aborts the uploads and removes the message; a failed upload leaves
 * the message `failed`, and `retry` uploads only what is not uploaded yet.
 */
import { type Attachment, type AttachmentResponse, type DirectUploadResponse, uuidv7 } from '@parley/protocol';
import { ParleyError } from './errors.js';
import type { ChannelHost } from './host.js';
import { isNativeFile, type NativeFile, postForm, sizeOf, type UploadFile } from './http.js';
import { type OutboxEntry, pendingMessage } from './outbox.js';
import { type LocalMessage, type LocalUpload, upsertMessage } from './state.js';

/**
 * A file to send: a `Blob`/`File` or a React Native {@link NativeFile} (uploaded first), or an
 * attachment uploaded earlier.
 */
export type AttachmentInput = Blob | NativeFile | { id: string };

/** Progress of one send's uploads. */
export interface UploadProgress {
  messageId: string;
  /** Bytes sent over all files, and their total. */
  sent: number;
  total: number;
  uploads: readonly LocalUpload[];
}

interface PendingSend {
  entry: OutboxEntry;
  files: { input: AttachmentInput; local: LocalUpload; uploaded?: Attachment }[];
  abort: AbortController;
  onProgress: ((p: UploadProgress) => void) | undefined;
}

/** A file still to upload (rather than the id of one uploaded earlier). */
const isFile = (x: AttachmentInput): x is UploadFile =>
  (typeof Blob !== 'undefined' && x instanceof Blob) || isNativeFile(x);
const nameOf = (b: UploadFile) =>
  typeof (b as File).name === 'string' && (b as File).name ? (b as File).name : 'file';

/** Something to show the file by at once: an object URL in browsers, the file's own URI on React Native. */
function previewOf(f: UploadFile): { preview?: string } {
  if (isNativeFile(f)) return { preview: f.uri };
  if (typeof URL !== 'undefined' && typeof URL.createObjectURL === 'function')
    return { preview: URL.createObjectURL(f) };
  return {};
}

/** Give back an object URL made by `previewOf` (a native file's URI is not one). */
function releasePreview(f: { input: AttachmentInput; local: LocalUpload }): void {
  if (f.local.preview && !isNativeFile(f.input)) URL.revokeObjectURL(f.local.preview);
}

export class Uploads {
  private readonly pending = new Map<string, PendingSend>();

  constructor(private readonly host: ChannelHost) {}

  /** Whether a send of these attachments needs uploads first. */
  static needsUpload(list: readonly AttachmentInput[] | undefined): boolean {
    return !!list?.some(isFile);
  }

  /** Upload the files of a send, then queue it; resolves with the stored message. */
  send(
    entry: OutboxEntry,
    inputs: readonly AttachmentInput[],
    onProgress?: (p: UploadProgress) => void,
  ): Promise<LocalMessage> {
    const files = inputs.map((input) => {
      const blob = isFile(input) ? input : null;
      const local: LocalUpload = {
        id: blob ? uuidv7() : (input as { id: string }).id,
        name: blob ? nameOf(blob) : '',
        size: blob ? sizeOf(blob) : 0,
        type: blob ? blob.type : '',
        progress: blob ? 0 : 1,
        state: blob ? 'uploading' : 'done',
        ...(blob ? previewOf(blob) : {}),
      };
      return { input, local };
    });
    const p: PendingSend = { entry, files, abort: new AbortController(), onProgress };
    this.pending.set(entry.message.id, p);
    return this.run(p);
  }

  /** Send again a message whose upload failed: only files not uploaded yet go up again. */
  retry(messageId: string): Promise<LocalMessage> | null {
    const p = this.pending.get(messageId);
    if (!p) return null;
    p.abort = new AbortController();
    for (const f of p.files)
      if (!f.uploaded && f.local.state !== 'done') f.local = { ...f.local, state: 'uploading', progress: 0 };
    return this.run(p);
  }

  /** Stop a send still uploading: abort, remove the message, delete what was uploaded. */
  cancel(messageId: string): boolean {
    const p = this.pending.get(messageId);
    if (!p) return false;
    this.pending.delete(messageId);
    p.abort.abort();
    for (const f of p.files) {
      releasePreview(f);
      if (f.uploaded) void this.host.http.call('DELETE', `/v1/uploads/${f.uploaded.id}`).catch(() => {});
    }
    this.host.updateChannel(p.entry.cid, (c) => ({ ...c, messages: c.messages.filter((m) => m.id !== messageId) }));
    return true;
  }

  private show(p: PendingSend, status: LocalMessage['status'], error?: ParleyError): void {
    const local: LocalMessage = {
      ...pendingMessage(p.entry, this.host.me),
      status,
      uploads: p.files.map((f) => f.local),
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    };
    this.host.updateChannel(p.entry.cid, (c) => ({ ...c, messages: upsertMessage(c.messages, local) }));
  }

  private progress(p: PendingSend): void {
    const total = p.files.reduce((n, f) => n + f.local.size, 0);
    const sent = p.files.reduce((n, f) => n + f.local.size * f.local.progress, 0);
    p.onProgress?.({ messageId: p.entry.message.id, sent, total, uploads: p.files.map((f) => f.local) });
  }

  /**
   * One file to the server: straight to the object store when the server offers it (S3
   * storage: ask, POST the presigned form, complete), else through the server's upload route.
   */
  private async uploadOne(
    cid: string,
    blob: UploadFile,
    name: string,
    opts: { signal: AbortSignal; onProgress: (sent: number, total: number) => void },
  ): Promise<Attachment> {
    const rules = await this.host.files.rules().catch(() => null);
    if (!rules?.direct_uploads)
      return (await this.host.http.upload<AttachmentResponse>(`/v1/channels/${cid}/uploads`, blob, name, opts))
        .attachment;
    const { upload } = await this.host.http.call<DirectUploadResponse>('POST', `/v1/channels/${cid}/uploads/direct`, {
      name,
      size: sizeOf(blob),
      type: blob.type || 'application/octet-stream',
    });
    await postForm(upload.url, upload.fields, blob, name, opts);
    const done = await this.host.http.call<AttachmentResponse>('POST', `/v1/uploads/${upload.id}/complete`, {
      token: upload.token,
    });
    return done.attachment;
  }

  private async run(p: PendingSend): Promise<LocalMessage> {
    const id = p.entry.message.id;
    this.show(p, 'sending');
    try {
      for (const f of p.files) {
        if (f.uploaded || !isFile(f.input)) continue;
        const blob = f.input;
        f.uploaded = await this.uploadOne(p.entry.cid, blob, f.local.name, {
          signal: p.abort.signal,
          onProgress: (sent, total) => {
            f.local = { ...f.local, progress: total ? Math.min(1, sent / total) : 0 };
            this.show(p, 'sending');
            this.progress(p);
          },
        });
        f.local = { ...f.local, progress: 1, state: 'done' };
        this.show(p, 'sending');
        this.progress(p);
      }
    } catch (e) {
      if (!this.pending.has(id)) throw new ParleyError('CANCELLED', 'The send was cancelled', { retryable: false });
      const err = e instanceof ParleyError ? e : new ParleyError('INTERNAL', String(e), { retryable: false });
      for (const f of p.files) if (!f.uploaded && isFile(f.input)) f.local = { ...f.local, state: 'failed' };
      this.show(p, 'failed', err);
      throw err;
    }
    if (!this.pending.has(id)) throw new ParleyError('CANCELLED', 'The send was cancelled', { retryable: false });
    const entry: OutboxEntry = {
      ...p.entry,
      message: {
        ...p.entry.message,
        attachments: p.files.map((f) => f.uploaded?.id ?? (f.input as { id: string }).id),
      },
    };
    const local: LocalMessage = {
      ...pendingMessage(entry, this.host.me),
      uploads: p.files.map((f) => f.local),
      attachments: p.files.flatMap((f) => (f.uploaded ? [f.uploaded] : [])),
    };
    // If the send fails, the outbox marks it failed; a retry sends the same ids again
    // (nothing uploads twice).
    const stored = await this.host.enqueue(entry, local);
    this.pending.delete(id);
    for (const f of p.files) releasePreview(f);
    return stored;
  }
}

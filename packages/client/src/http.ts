/** REST calls with the app key and the current token; error bodies become ParleyErrors. */
import { ParleyError } from './errors.js';

/**
 * A file on the device by its URI, as React Native's image and document pickers return it. React
 * Native's `FormData` reads the file from the URI itself while sending; there is no `Blob` of it.
 */
export interface NativeFile {
  uri: string;
  name: string;
  /** Its MIME type ('' when the picker gave none: the server reads the bytes). */
  type: string;
  /** Bytes, when the picker told (progress and the upload rules' size check use it). */
  size?: number;
}

/** What can be uploaded: a `Blob`/`File`, or a {@link NativeFile}. */
export type UploadFile = Blob | NativeFile;

/** Whether `f` is a {@link NativeFile} rather than a `Blob`. */
export const isNativeFile = (f: unknown): f is NativeFile =>
  typeof f === 'object' &&
  f !== null &&
  typeof (f as NativeFile).uri === 'string' &&
  (typeof Blob === 'undefined' || !(f instanceof Blob));

/** The byte size of an upload (0 when a native picker did not tell). */
export const sizeOf = (f: UploadFile): number => (isNativeFile(f) ? (f.size ?? 0) : f.size);

/** Add `file` to a form as part `file`: React Native's `FormData` takes `{ uri, name, type }` in place of a Blob. */
function appendFile(form: FormData, file: UploadFile, name: string): void {
  if (isNativeFile(file))
    form.append('file', { uri: file.uri, name, type: file.type || 'application/octet-stream' } as unknown as Blob);
  else form.append('file', file, name);
}

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  status: number;
  ok: boolean;
  text(): Promise<string>;
}>;

export class Http {
  constructor(
    private readonly base: string,
    private readonly apiKey: string,
    private readonly token: (refresh: boolean) => Promise<string>,
    private readonly fetchImpl: FetchLike,
    /** The client's session (bumped by disconnectUser): an answer to an older one is dropped. */
    private readonly session: () => number = () => 0,
    /**
     * Whether a user is connected: after disconnectUser nothing is sent at all (a view that
     * reloads as it unmounts must not ask with a token that was signed out, nor ask for another).
     */
    private readonly active: () => boolean = () => true,
  ) {}

  private refuseInactive(): void {
    if (!this.active())
      throw new ParleyError('DISCONNECTED', 'Not connected: call connectUser first', { retryable: false });
  }

  /** An absolute URL for a server path (file links are paths such as `/v1/files/…`). */
  resolve(path: string): string {
    return /^https?:/.test(path) ? path : `${this.base.replace(/\/$/, '')}${path}`;
  }

  async call<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    this.refuseInactive();
    const session = this.session();
    const result = await this.send<T>(method, path, body, retried);
    // The user disconnected (or another connected) while this was in flight: nothing of it
    // may reach the state of the session that follows.
    if (this.session() !== session)
      throw new ParleyError('DISCONNECTED', 'The user disconnected while the request was in flight', {
        retryable: false,
      });
    return result;
  }

  private async send<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const headers: Record<string, string> = {
      'x-api-key': this.apiKey,
      authorization: `Bearer ${await this.token(retried)}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchImpl(`${this.base.replace(/\/$/, '')}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new ParleyError('DISCONNECTED', `Network error: ${(e as Error).message}`, { retryable: true });
    }
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
    // An expired token is refreshed once through the provider, then the call is repeated.
    if (res.status === 401 && !retried) return this.send<T>(method, path, body, true);
    throw failure(res.status, text);
  }

  /**
   * POST `body` and read the answer as it arrives (a `text/event-stream`, such as a catch-up's):
   * its text, decoded, in the pieces the network gives. Needs a `fetch` whose answer has a
   * readable `body` (browsers, Node 18+); an error answer throws as `call` does.
   */
  async stream(path: string, body: unknown, signal?: AbortSignal): Promise<AsyncIterable<string>> {
    this.refuseInactive();
    const url = `${this.base.replace(/\/$/, '')}${path}`;
    const attempt = async (refresh: boolean) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'x-api-key': this.apiKey,
          authorization: `Bearer ${await this.token(refresh)}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify(body),
        cache: 'no-store',
        ...(signal ? { signal } : {}),
      });
    let res: Response;
    try {
      res = await attempt(false);
      if (res.status === 401) res = await attempt(true);
    } catch (e) {
      if (signal?.aborted) throw new ParleyError('CANCELLED', 'The request was cancelled', { retryable: false });
      throw new ParleyError('DISCONNECTED', `Network error: ${(e as Error).message}`, { retryable: true });
    }
    if (!res.ok || !res.body) throw failure(res.status, await res.text());
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            let next: ReadableStreamReadResult<Uint8Array>;
            try {
              next = await reader.read();
            } catch (e) {
              if (signal?.aborted)
                throw new ParleyError('CANCELLED', 'The request was cancelled', { retryable: false });
              throw new ParleyError('DISCONNECTED', `Network error: ${(e as Error).message}`, { retryable: true });
            }
            if (next.done) return;
            yield decoder.decode(next.value, { stream: true });
          }
        } finally {
          reader.cancel().catch(() => {});
        }
      },
    };
  }

  /**
   * POST (or PUT) a file as `multipart/form-data` (one part named `file`), reporting progress where
   * the platform can (XMLHttpRequest in browsers; fetch elsewhere reports 0 then 1).
   */
  async upload<T>(
    path: string,
    file: UploadFile,
    name: string,
    opts: {
      onProgress?: (sent: number, total: number) => void;
      signal?: AbortSignal;
      method?: 'POST' | 'PUT';
      /** Text parts sent before the file (a custom emoji's shortcode). */
      fields?: Record<string, string>;
    } = {},
  ): Promise<T> {
    this.refuseInactive();
    const url = `${this.base.replace(/\/$/, '')}${path}`;
    const attempt = async (refresh: boolean): Promise<{ status: number; text: string }> => {
      const headers: Record<string, string> = {
        'x-api-key': this.apiKey,
        authorization: `Bearer ${await this.token(refresh)}`,
      };
      const form = new FormData();
      for (const [k, v] of Object.entries(opts.fields ?? {})) form.append(k, v);
      appendFile(form, file, name);
      if (typeof XMLHttpRequest !== 'undefined') return xhrUpload(url, headers, form, opts);
      opts.onProgress?.(0, sizeOf(file));
      const res = await fetch(url, {
        method: opts.method ?? 'POST',
        headers,
        body: form,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const text = await res.text();
      opts.onProgress?.(sizeOf(file), sizeOf(file));
      return { status: res.status, text };
    };
    let r: { status: number; text: string };
    try {
      r = await attempt(false);
      if (r.status === 401) r = await attempt(true);
    } catch (e) {
      if (opts.signal?.aborted) throw new ParleyError('CANCELLED', 'The upload was cancelled', { retryable: false });
      throw new ParleyError('DISCONNECTED', `Network error: ${(e as Error).message}`, { retryable: true });
    }
    if (r.status >= 200 && r.status < 300) return (r.text ? JSON.parse(r.text) : undefined) as T;
    throw failure(r.status, r.text);
  }
}

/**
 * A failed answer as a ParleyError: the server's error body, or, for a body that is none (a
 * proxy's own page, such as nginx's 502 while a node restarts), a code from the status, so a
 * proxy's "try again" stays retryable instead of failing to parse.
 */
export function failure(status: number, text: string): ParleyError {
  let err: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    err = (JSON.parse(text) as { error?: typeof err } | null)?.error;
  } catch {
    err = undefined;
  }
  if (err && typeof err.code === 'string')
    return new ParleyError(err.code, typeof err.message === 'string' ? err.message : `HTTP ${status}`, {
      status,
      details: err.details,
    });
  const code =
    status === 502 || status === 503 || status === 504
      ? 'UNAVAILABLE'
      : status === 413
        ? 'PAYLOAD_TOO_LARGE'
        : status === 429
          ? 'RATE_LIMITED'
          : 'INTERNAL';
  return new ParleyError(code, `HTTP ${status} from the server or a proxy on the way`, { status });
}

/**
 * POST a form (`fields`, then the file as part `file`) to an absolute URL with no credentials of
 * ours: a direct upload to an object store's presigned form (uploads.ts). Progress as `upload`.
 */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  file: UploadFile,
  name: string,
  opts: { onProgress?: (sent: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  appendFile(form, file, name);
  let r: { status: number; text: string };
  try {
    if (typeof XMLHttpRequest !== 'undefined') r = await xhrUpload(url, {}, form, opts);
    else {
      opts.onProgress?.(0, sizeOf(file));
      const res = await fetch(url, { method: 'POST', body: form, ...(opts.signal ? { signal: opts.signal } : {}) });
      r = { status: res.status, text: await res.text() };
      opts.onProgress?.(sizeOf(file), sizeOf(file));
    }
  } catch (e) {
    if (opts.signal?.aborted) throw new ParleyError('CANCELLED', 'The upload was cancelled', { retryable: false });
    throw new ParleyError('DISCONNECTED', `Network error: ${(e as Error).message}`, { retryable: true });
  }
  if (r.status < 200 || r.status >= 300)
    throw new ParleyError('UPLOAD_REFUSED', `The storage refused the upload (HTTP ${r.status})`, {
      status: r.status,
      retryable: r.status >= 500,
    });
}

function xhrUpload(
  url: string,
  headers: Record<string, string>,
  form: FormData,
  opts: { onProgress?: (sent: number, total: number) => void; signal?: AbortSignal; method?: 'POST' | 'PUT' },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(opts.method ?? 'POST', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new Error('upload failed'));
    xhr.onabort = () => reject(new Error('aborted'));
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** REST calls with the app key and the current token; error bodies become ParleyErrors. */
import { ParleyError } from './errors.js';

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
  ) {}

  async call<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
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
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (res.ok) return json as T;
    // An expired token is refreshed once through the provider, then the call is repeated.
    if (res.status === 401 && !retried) return this.send<T>(method, path, body, true);
    const err = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ParleyError(err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${res.status}`, {
      status: res.status,
      details: err?.details,
    });
  }
}

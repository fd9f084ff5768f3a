/**
 * The fallback transport as a socket: a `text/event-stream` read with fetch() (`GET /v1/sse`)
 * down, frames POSTed (`POST /v1/sse/{connection_id}`) up, behind the same `SocketLike` surface
 * as a WebSocket, so Connection drives it with the code it drives a WebSocket with: the same
 * hello, requests and replies, pings, close codes and reconnects. fetch() streaming, not
 * EventSource: it is the same in browsers and Node (which has no EventSource), and it can send
 * the token as a header rather than in the URL.
 *
 * Order up: one POST at a time; frames sent while one is in flight leave together in the next,
 * so the server receives them in the order they were sent, as on a WebSocket. A POST that fails
 * ends the socket (as a WebSocket's broken write does): Connection fails its pending requests
 * and reconnects, and the SDK's idempotent sends are retried under their ids.
 */
import { MAX_SSE_POST_FRAMES, SSE_PATH, SseParser } from '@parley/protocol';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** `fetch` as the transport uses it (the global one by default; any compatible one works). */
export type FetchLike = typeof fetch;

/** Fits Connection's `SocketLike` (by shape: the two modules do not import each other). */
export class SseSocket {
  readyState = CONNECTING;
  /** `parley`: the token went with the request (Connection sends no auth frame). */
  readonly protocol = 'parley';
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private readonly abort = new AbortController();
  private connectionId: string | null = null;
  private outbox: string[] = [];
  private posting = false;

  /** `baseUrl`: the server's http(s) origin; `token`: a user token of the app of `apiKey`. */
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly token: string,
    private readonly fetchImpl: FetchLike,
    /** More of the stream's query string (`&device=…`). */
    private readonly query = '',
  ) {
    void this.run();
  }

  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error('stream not open');
    this.outbox.push(data);
    this.pump();
  }

  close(code = 1000, reason = ''): void {
    this.end(code, reason);
  }

  private async run(): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${SSE_PATH}?api_key=${encodeURIComponent(this.apiKey)}${this.query}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
        signal: this.abort.signal,
        cache: 'no-store',
      });
    } catch {
      this.end(1006, 'stream request failed');
      return;
    }
    if (!res.ok || !res.body) {
      // A refused credential is the WebSocket's 4001 (refresh the token, then give up); anything
      // else (a proxy's error page, a server starting) is a network failure, retried.
      const reason = await res.text().catch(() => '');
      this.end(res.status === 401 || res.status === 403 ? 4001 : 1006, reason.slice(0, 200));
      return;
    }
    if (this.readyState !== CONNECTING) {
      void res.body.cancel().catch(() => {});
      return;
    }
    this.readyState = OPEN;
    this.onopen?.({});
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of parser.feed(decoder.decode(value, { stream: true }))) {
          if (ev.event === 'close') {
            const c = JSON.parse(ev.data) as { code?: number; reason?: string };
            this.end(typeof c.code === 'number' ? c.code : 1006, c.reason ?? '');
            return;
          }
          if (this.connectionId === null && ev.data.startsWith('{"type":"hello"'))
            this.connectionId = (JSON.parse(ev.data) as { connection_id: string }).connection_id;
          if (this.readyState !== OPEN) return;
          this.onmessage?.({ data: ev.data });
        }
      }
    } catch {
      // aborted or cut
    }
    this.end(1006, 'stream ended');
  }

  private pump(): void {
    if (this.posting || this.outbox.length === 0 || this.connectionId === null || this.readyState !== OPEN) return;
    const batch = this.outbox.splice(0, MAX_SSE_POST_FRAMES);
    this.posting = true;
    this.fetchImpl(`${this.baseUrl}${SSE_PATH}/${encodeURIComponent(this.connectionId)}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': this.apiKey,
        authorization: `Bearer ${this.token}`,
      },
      // Each frame is JSON text already: spliced, not parsed and encoded again.
      body: `{"frames":[${batch.join(',')}]}`,
      signal: this.abort.signal,
    }).then(
      (res) => {
        this.posting = false;
        void res.body?.cancel().catch(() => {});
        // 404: the server no longer has this stream (it closed it, or restarted) — end it here.
        if (!res.ok) this.end(res.status === 404 ? 4000 : 1006, `POST answered ${res.status}`);
        else this.pump();
      },
      () => {
        this.posting = false;
        this.end(1006, 'POST failed');
      },
    );
  }

  private end(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.outbox = [];
    this.abort.abort();
    // Later, as a WebSocket's close event is: never inside the call that closed it.
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }
}

/**
 * The assistant in the SDK (`client.assistant`, and `channel.catchUp()`): catch-up on a channel
 * or a thread as an async iterable of events read off the server's `text/event-stream` as the
 * model writes, smart replies, what the app offers (`load()` into `state`, kept current by
 * `assistant.updated` when its admins change it; `features()` reads afresh), and the admin
 * calls (the provider's settings and the usage meter). A catch-up that fails — before it starts
 * (ASSISTANT_OFF, NOT_FOUND …) or midway (ASSISTANT_UNAVAILABLE in its last event) — throws a
 * ParleyError from the loop.
 */
import type {
  AssistantResponse,
  AssistantSettings,
  AssistantUsageResponse,
  CatchUpBody,
  CatchUpEvent,
  Citation,
  MyAssistantResponse,
  PutAssistantBody,
  ServerEvent,
  SuggestionsResponse,
} from '@parley/protocol';
import { SseParser } from '@parley/protocol';
import { ParleyError } from './errors.js';
import type { Http } from './http.js';
import { Store } from './store.js';

/** What a catch-up yields: its start, the summary's pieces, and its end (errors are thrown). */
export type CatchUpProgress = Exclude<CatchUpEvent, { type: 'error' }>;

/** Options of a catch-up: a range (default: from your read mark to now), and a way to stop it. */
export interface CatchUpOptions extends CatchUpBody {
  signal?: AbortSignal;
}

/** The events of a catch-up stream at `path`. */
export async function* catchUpStream(
  http: Http,
  path: string,
  opts: CatchUpOptions = {},
): AsyncGenerator<CatchUpProgress> {
  const { signal, ...body } = opts;
  const chunks = await http.stream(path, body, signal);
  const parser = new SseParser();
  for await (const chunk of chunks)
    for (const ev of parser.feed(chunk)) {
      const e = JSON.parse(ev.data) as CatchUpEvent;
      if (e.type === 'error') throw new ParleyError(e.error.code, e.error.message, { retryable: true });
      yield e;
      if (e.type === 'done') return;
    }
  throw new ParleyError('DISCONNECTED', 'The catch-up ended before its summary did', { retryable: true });
}

/** A finished catch-up: the summary and the messages it cites. */
export interface CatchUpResult {
  summary: string;
  citations: Citation[];
  /** How many messages it covered (0: nothing to catch up on). */
  messages: number;
}

/** `client.assistant.state`. */
export interface AssistantState {
  /** What the app's assistant offers this user: all off until read (and while it is off). */
  features: MyAssistantResponse;
  /** Whether `features` was read (or set by an `assistant.updated`). */
  loaded: boolean;
}

const OFF: MyAssistantResponse = { catch_up: false, smart_replies: false, smart_replies_mode: 'off' };

export class Assistant {
  readonly state = new Store<AssistantState>({ features: OFF, loaded: false });
  #loading: Promise<MyAssistantResponse> | null = null;
  /** Bumped by each read started and each event: an answer older than the last event is not taken. */
  #generation = 0;
  #applied = 0;

  constructor(private readonly http: Http) {}

  /**
   * What the app's assistant offers this user, read once (again with `force`, or after a
   * reconnect) and kept in `state`; `assistant.updated` keeps it current from then on.
   */
  load(force = false): Promise<MyAssistantResponse> {
    if (this.state.get().loaded && !force) return Promise.resolve(this.state.get().features);
    if (!this.#loading || force) {
      const generation = ++this.#generation;
      const p = this.http.call<MyAssistantResponse>('GET', '/v1/me/assistant').then((r) => {
        const features = {
          catch_up: r.catch_up,
          smart_replies: r.smart_replies,
          smart_replies_mode: r.smart_replies_mode,
        };
        if (generation > this.#applied) {
          this.#applied = generation;
          this.state.update(() => ({ features, loaded: true }));
        }
        return features;
      });
      this.#loading = p;
      const done = () => {
        if (this.#loading === p) this.#loading = null;
      };
      p.then(done, done);
    }
    return this.#loading as Promise<MyAssistantResponse>;
  }

  /** What the app's assistant offers this user, read afresh (all false when it is off). */
  features(): Promise<MyAssistantResponse> {
    return this.load(true);
  }

  /** @internal The client hands every `assistant.updated` here: what the app offers now. */
  onEvent(e: ServerEvent): void {
    if (e.type !== 'assistant.updated') return;
    // A read under way started before this change: its answer is not newer.
    this.#applied = ++this.#generation;
    const features = { catch_up: e.catch_up, smart_replies: e.smart_replies, smart_replies_mode: e.smart_replies_mode };
    this.state.update(() => ({ features, loaded: true }));
  }

  /** @internal After a reconnect (a change may have been missed): read again, if read at all. */
  reconnected(): void {
    if (this.state.get().loaded || this.#loading) this.load(true).catch(() => {});
  }

  /** Catch up on a channel: the summary's events as they come (see `channel.catchUp()`). */
  catchUp(cid: string, opts: CatchUpOptions = {}): AsyncGenerator<CatchUpProgress> {
    return catchUpStream(this.http, `/v1/channels/${encodeURIComponent(cid)}/catch-up`, opts);
  }

  /** Catch up on the thread of `parentId`. */
  catchUpThread(parentId: string, opts: CatchUpOptions = {}): AsyncGenerator<CatchUpProgress> {
    return catchUpStream(this.http, `/v1/messages/${encodeURIComponent(parentId)}/catch-up`, opts);
  }

  /** Read a whole catch-up (no streaming): its summary and citations. */
  async summarize(cid: string, opts: CatchUpOptions = {}): Promise<CatchUpResult> {
    let messages = 0;
    for await (const e of this.catchUp(cid, opts)) {
      if (e.type === 'start') messages = e.messages;
      if (e.type === 'done') return { summary: e.summary, citations: e.citations, messages };
    }
    throw new ParleyError('DISCONNECTED', 'The catch-up ended before its summary did', { retryable: true });
  }

  /** Up to three short replies this user might send to a message. */
  async suggestReplies(messageId: string): Promise<string[]> {
    return (
      await this.http.call<SuggestionsResponse>('POST', `/v1/messages/${encodeURIComponent(messageId)}/suggestions`)
    ).suggestions;
  }

  /** The app's assistant settings (admins; never the key). */
  async get(): Promise<AssistantSettings | null> {
    return (await this.http.call<AssistantResponse>('GET', '/v1/assistant')).assistant;
  }

  /** Set the provider and features (admins): the fields given. */
  async put(body: PutAssistantBody): Promise<AssistantSettings> {
    return (await this.http.call<AssistantResponse>('PUT', '/v1/assistant', body)).assistant as AssistantSettings;
  }

  /** Remove the assistant (admins). */
  async remove(): Promise<void> {
    await this.http.call('DELETE', '/v1/assistant');
  }

  /** The usage meter (admins): requests and tokens per day and feature, the last `days` days. */
  usage(days?: number): Promise<AssistantUsageResponse> {
    return this.http.call<AssistantUsageResponse>('GET', `/v1/assistant/usage${days ? `?days=${days}` : ''}`);
  }
}

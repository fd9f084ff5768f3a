/**
 * The assistant in the SDK (`client.assistant`, and `channel.catchUp()`): catch-up on a channel
 * or a thread as an async iterable of events read off the server's `text/event-stream` as the
 * model writes, smart replies, what the app offers (`features()`), and the admin calls (the
 * provider's settings and the usage meter). A catch-up that fails — before it starts
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
  SuggestionsResponse,
} from '@parley/protocol';
import { SseParser } from '@parley/protocol';
import { ParleyError } from './errors.js';
import type { Http } from './http.js';

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

export class Assistant {
  constructor(private readonly http: Http) {}

  /** What the app's assistant offers this user (all false when it is off). */
  features(): Promise<MyAssistantResponse> {
    return this.http.call<MyAssistantResponse>('GET', '/v1/me/assistant');
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

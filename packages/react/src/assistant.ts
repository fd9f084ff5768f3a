/**
 * The assistant in the kit: `useAssistant()` (what the app offers this user, read once per
 * client and followed live: `assistant.updated` when its admins change it), `useCatchUp(cid)` (a
 * catch-up of a channel or a thread, its summary growing as the model writes it) and
 * `useSmartReplies(messageId)` (suggested replies: on request, or by themselves where the app set
 * smart replies to `automatic`).
 */
import { keepLoading } from '@parley/client';
import type { Citation, SmartRepliesMode } from '@parley/protocol';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';

/** What the assistant offers: each false while it is off (or not yet read). */
export interface AssistantFeatures {
  catch_up: boolean;
  smart_replies: boolean;
  /** How the app offers smart replies: `off`, `on_request` (a button) or `automatic` (asked by themselves). */
  smart_replies_mode: SmartRepliesMode;
}

/**
 * What the app's assistant offers the connected user (all off until read, and when it is off),
 * from `client.assistant.state`: read once per client, and re-rendered when an admin changes it.
 */
export function useAssistant(): AssistantFeatures {
  const client = useChatClient();
  const state = client.assistant.state;
  useEffect(() => keepLoading(() => client.assistant.load()), [client]);
  return useSyncExternalStore(
    (l) => state.subscribe(l),
    () => state.get().features,
    () => state.get().features,
  );
}

export interface CatchUpView {
  status: 'idle' | 'streaming' | 'done' | 'error';
  /** The summary so far (all of it once `done`). */
  summary: string;
  /** The messages its `[n]` cite (once `done`). */
  citations: Citation[];
  /** How many messages it covers (0: nothing to catch up on). */
  messages: number | null;
  error: { code: string; message: string } | null;
  /** Start (or start again); `range` as `channel.catchUp()`'s. */
  start(range?: { after_seq?: number; before_seq?: number }): void;
  /** Stop a catch-up under way (what was written stays). */
  stop(): void;
}

/**
 * A catch-up of `cid` (or, with `threadOf`, of that message's thread), started on request: its
 * summary grows as the model writes it. Unmounting stops it.
 */
export function useCatchUp(cid: string, opts: { threadOf?: string } = {}): CatchUpView {
  const client = useChatClient();
  const [view, setView] = useState<Omit<CatchUpView, 'start' | 'stop'>>({
    status: 'idle',
    summary: '',
    citations: [],
    messages: null,
    error: null,
  });
  const abort = useRef<AbortController | null>(null);
  const stop = useCallback(() => {
    abort.current?.abort();
    abort.current = null;
  }, []);
  useEffect(() => stop, [stop]);
  const threadOf = opts.threadOf;
  const start = useCallback(
    (range: { after_seq?: number; before_seq?: number } = {}) => {
      abort.current?.abort();
      const a = new AbortController();
      abort.current = a;
      setView({ status: 'streaming', summary: '', citations: [], messages: null, error: null });
      const events = threadOf
        ? client.assistant.catchUpThread(threadOf, { ...range, signal: a.signal })
        : client.assistant.catchUp(cid, { ...range, signal: a.signal });
      void (async () => {
        try {
          for await (const e of events) {
            if (a.signal.aborted) return;
            if (e.type === 'start') setView((v) => ({ ...v, messages: e.messages }));
            else if (e.type === 'delta') setView((v) => ({ ...v, summary: v.summary + e.text }));
            else setView((v) => ({ ...v, status: 'done', summary: e.summary, citations: e.citations }));
          }
        } catch (err) {
          if (a.signal.aborted) return;
          const e = err as { code?: string; message?: string };
          setView((v) => ({
            ...v,
            status: 'error',
            error: { code: e.code ?? 'INTERNAL', message: e.message ?? 'The catch-up failed' },
          }));
        }
      })();
    },
    [client, cid, threadOf],
  );
  return { ...view, start, stop };
}

export interface SmartRepliesView {
  suggestions: string[];
  loading: boolean;
  error: { code: string; message: string } | null;
  /**
   * How the app offers them (`GET /v1/me/assistant`): `off` (show nothing), `on_request` (show a
   * button that calls `request()`), `automatic` (they come by themselves; no button needed).
   */
  mode: SmartRepliesMode;
  /** Ask for suggestions (again). */
  request(): void;
}

/**
 * Suggested replies to `messageId`, asked for with `request()` — or by themselves as soon as the
 * message is known (each message once) when the app's setting is `automatic`, or `auto` says so
 * (`auto: false` never asks by itself); cleared when the message changes.
 */
export function useSmartReplies(messageId: string | null, opts: { auto?: boolean } = {}): SmartRepliesView {
  const client = useChatClient();
  const { smart_replies_mode: mode } = useAssistant();
  // Whose suggestions these are: a change of message shows none until asked again.
  const [state, setState] = useState<Omit<SmartRepliesView, 'request' | 'mode'> & { for: string | null }>({
    for: null,
    suggestions: [],
    loading: false,
    error: null,
  });
  const current = useRef(messageId);
  current.current = messageId;
  const request = useCallback(() => {
    if (!messageId) return;
    setState({ for: messageId, suggestions: [], loading: true, error: null });
    client.assistant.suggestReplies(messageId).then(
      (suggestions) => {
        if (current.current === messageId) setState({ for: messageId, suggestions, loading: false, error: null });
      },
      (err: { code?: string; message?: string }) => {
        if (current.current === messageId)
          setState({
            for: messageId,
            suggestions: [],
            loading: false,
            error: { code: err.code ?? 'INTERNAL', message: err.message ?? 'No suggestions' },
          });
      },
    );
  }, [client, messageId]);
  const auto = opts.auto ?? mode === 'automatic';
  const asked = useRef<string | null>(null);
  useEffect(() => {
    if (!auto || !messageId || asked.current === messageId) return;
    asked.current = messageId;
    request();
  }, [auto, messageId, request]);
  if (state.for !== messageId) return { suggestions: [], loading: false, error: null, mode, request };
  return { suggestions: state.suggestions, loading: state.loading, error: state.error, mode, request };
}

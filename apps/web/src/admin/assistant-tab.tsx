/**
 * The admin console's Assistant tab: the workspace's model provider (any OpenAI-compatible
 * server: its URL, model and key — the key is kept sealed and never shown again), what the
 * assistant does (catch-up, smart replies, AI moderation and whether it fails open), and the
 * usage meter: requests and tokens in and out per day and feature, as the provider counted them.
 */
import type { AssistantSettings, AssistantUsageResponse, PutAssistantBody, SmartRepliesMode } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const FEATURE_NAMES: Record<string, string> = {
  catch_up: 'Catch-up',
  smart_replies: 'Smart replies',
  moderation: 'Moderation',
};

interface Draft {
  url: string;
  model: string;
  key: string;
  enabled: boolean;
  catch_up: boolean;
  smart_replies_mode: SmartRepliesMode;
  moderation: boolean;
  moderation_fail_open: boolean;
}
const EMPTY: Draft = {
  url: '',
  model: '',
  key: '',
  enabled: false,
  catch_up: true,
  smart_replies_mode: 'on_request',
  moderation: false,
  moderation_fail_open: true,
};
const draftOf = (a: AssistantSettings | null): Draft =>
  a
    ? {
        url: a.url,
        model: a.model,
        key: '',
        enabled: a.enabled,
        catch_up: a.catch_up,
        smart_replies_mode: a.smart_replies_mode,
        moderation: a.moderation,
        moderation_fail_open: a.moderation_fail_open,
      }
    : EMPTY;

export function AssistantTab() {
  const client = useChatClient();
  const [current, setCurrent] = useState<AssistantSettings | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [usage, setUsage] = useState<AssistantUsageResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const load = useCallback(() => {
    client.assistant.get().then(
      (a) => {
        setCurrent(a);
        setDraft(draftOf(a));
      },
      (e: unknown) => setError(message(e)),
    );
    client.assistant.usage(30).then(setUsage, (e: unknown) => setError(message(e)));
  }, [client]);
  useEffect(load, [load]);

  const save = () => {
    setError(null);
    setSaved(false);
    if (!/^https?:\/\/\S+$/.test(draft.url.trim()))
      return setError('The provider URL starts with http:// or https://.');
    if (!draft.model.trim()) return setError('Name the model the provider serves.');
    const { key, ...rest } = draft;
    const body: PutAssistantBody = { ...rest, url: draft.url.trim(), model: draft.model.trim() };
    if (key.trim()) body.key = key.trim();
    client.assistant.put(body).then(
      (a) => {
        setCurrent(a);
        setDraft(draftOf(a));
        setSaved(true);
      },
      (e: unknown) => setError(message(e)),
    );
  };
  const check = (field: keyof Draft, label: string) => (
    <label className="app-check">
      <input
        type="checkbox"
        checked={draft[field] as boolean}
        onChange={(e) => setDraft({ ...draft, [field]: e.target.checked })}
      />{' '}
      {label}
    </label>
  );

  return (
    <div className="app-form" data-testid="assistant-admin">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="app-muted">
        Catch-up, smart replies and AI moderation with the model of your choice: any server that speaks the
        OpenAI-compatible chat-completions API (llama.cpp, vLLM, Ollama, or a hosted provider). Off until enabled.
      </p>
      <form
        className="app-form"
        aria-label="Assistant provider"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <div className="app-row">
          <label className="app-field">
            <span className="app-field__label">Provider URL</span>
            <input
              className="app-input"
              value={draft.url}
              placeholder="http://127.0.0.1:11434/v1"
              onChange={(e) => setDraft({ ...draft, url: e.target.value })}
            />
          </label>
          <label className="app-field">
            <span className="app-field__label">Model</span>
            <input
              className="app-input"
              value={draft.model}
              placeholder="llama3.2"
              onChange={(e) => setDraft({ ...draft, model: e.target.value })}
            />
          </label>
        </div>
        <label className="app-field">
          <span className="app-field__label">
            API key {current?.has_key ? '(one is set; leave empty to keep it)' : '(if the provider needs one)'}
          </span>
          <input
            className="app-input"
            type="password"
            autoComplete="off"
            value={draft.key}
            onChange={(e) => setDraft({ ...draft, key: e.target.value })}
          />
        </label>
        {check('enabled', 'Enabled')}
        {check('catch_up', 'Catch-up')}
        <label className="app-field">
          <span className="app-field__label">Smart replies</span>
          <select
            className="app-input"
            value={draft.smart_replies_mode}
            onChange={(e) => setDraft({ ...draft, smart_replies_mode: e.target.value as SmartRepliesMode })}
          >
            <option value="off">Off</option>
            <option value="on_request">On request (a Suggest replies button)</option>
            <option value="automatic">Automatic (suggested as a message comes in)</option>
          </select>
        </label>
        {check('moderation', 'AI moderation of every message')}
        {check('moderation_fail_open', 'Send messages when the moderation call fails (fail open)')}
        <div className="app-row app-row--end">
          {saved ? <span className="app-muted">Saved.</span> : null}
          <button type="submit" className="app-button app-button--primary">
            Save
          </button>
        </div>
      </form>
      <h3>Usage, last 30 days</h3>
      <table className="app-table" aria-label="Assistant usage">
        <thead>
          <tr>
            <th>Day</th>
            <th>Feature</th>
            <th>Requests</th>
            <th>Tokens in</th>
            <th>Tokens out</th>
          </tr>
        </thead>
        <tbody>
          {!usage || usage.usage.length === 0 ? (
            <tr>
              <td colSpan={5} className="app-muted">
                No use yet.
              </td>
            </tr>
          ) : (
            usage.usage.map((u) => (
              <tr key={`${u.day}-${u.feature}`} data-testid={`usage-${u.day}-${u.feature}`}>
                <td>{u.day}</td>
                <td>{FEATURE_NAMES[u.feature] ?? u.feature}</td>
                <td>{u.requests}</td>
                <td>{u.prompt_tokens.toLocaleString('en')}</td>
                <td>{u.completion_tokens.toLocaleString('en')}</td>
              </tr>
            ))
          )}
        </tbody>
        {usage && usage.usage.length > 0 ? (
          <tfoot>
            <tr data-testid="usage-total">
              <th colSpan={2}>Total</th>
              <th>{usage.total.requests}</th>
              <th>{usage.total.prompt_tokens.toLocaleString('en')}</th>
              <th>{usage.total.completion_tokens.toLocaleString('en')}</th>
            </tr>
          </tfoot>
        ) : null}
      </table>
    </div>
  );
}

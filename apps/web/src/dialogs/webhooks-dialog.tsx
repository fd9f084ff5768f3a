/**
 * Webhooks of the workspace (owners and admins): the endpoints, adding one (its signing secret
 * is shown once), switching one off and on, deleting, and each one's delivery log with
 * "Send again". The server's docs (protocol.md, Webhooks) say how a receiver checks signatures.
 */
import type { WebhookDelivery, WebhookEndpoint } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import { Modal } from '../components/modal.js';

const EVENT_CHOICES = [
  'message.*',
  'reaction.*',
  'poll.*',
  'member.*',
  'channel.*',
  'user.*',
  'emoji.*',
  'inbox.*',
] as const;

function Deliveries({ webhook }: { webhook: WebhookEndpoint }) {
  const client = useChatClient();
  const [list, setList] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    client
      .listWebhookDeliveries(webhook.id, 25)
      .then(setList)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [client, webhook.id]);
  useEffect(load, [load]);
  if (error) return <p className="app-form__error">{error}</p>;
  if (!list) return <p className="app-muted">Loading…</p>;
  if (list.length === 0) return <p className="app-muted">No deliveries yet.</p>;
  return (
    <table className="app-table" aria-label={`Deliveries to ${webhook.url}`}>
      <thead>
        <tr>
          <th>When</th>
          <th>Event</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Latency</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {list.map((d) => (
          <tr key={d.id}>
            <td>{new Date(d.created_at).toLocaleTimeString()}</td>
            <td>
              {d.event_type}
              {d.cid ? <span className="app-muted"> {d.cid}</span> : null}
              {d.user_id ? <span className="app-muted"> @{d.user_id}</span> : null}
            </td>
            <td title={d.error ?? undefined}>
              {d.status}
              {d.response_status ? ` (${d.response_status})` : ''}
            </td>
            <td>{d.attempts}</td>
            <td>{d.latency_ms === null ? '–' : `${d.latency_ms} ms`}</td>
            <td>
              <button
                type="button"
                className="app-link-button"
                onClick={() =>
                  void client
                    .redeliverWebhook(webhook.id, d.id)
                    .then(load)
                    .catch(() => {})
                }
              >
                Send again
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The workspace's webhooks: add one, see each one's deliveries, redeliver, remove. */
export function WebhooksPanel() {
  const client = useChatClient();
  const id = useId();
  const [list, setList] = useState<WebhookEndpoint[] | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['message.*']);
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const load = useCallback(() => {
    client
      .listWebhooks()
      .then(setList)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [client]);
  useEffect(load, [load]);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await client.createWebhook({ url: url.trim(), events });
      setSecret(r.secret);
      setUrl('');
      load();
    } catch (err) {
      fail(err);
    }
  };

  return (
    <>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {secret ? (
        <div className="app-callout" role="status">
          <p>
            Signing secret — copy it now, it is not shown again. Check each request's <code>X-Parley-Signature</code>{' '}
            with it.
          </p>
          <input
            className="app-input"
            readOnly
            aria-label="Signing secret"
            value={secret}
            data-testid="webhook-secret"
          />
        </div>
      ) : null}
      {list === null ? (
        <p className="app-muted">Loading…</p>
      ) : list.length === 0 ? (
        <p className="app-muted">No webhooks yet.</p>
      ) : (
        <ul className="app-later" aria-label="Webhook endpoints">
          {list.map((w) => (
            <li key={w.id} className="app-later__item" data-testid="webhook-item">
              <div>
                <strong>{w.url}</strong> <span className="app-muted">{w.events.join(', ')}</span>{' '}
                <span className={w.active ? 'app-badge' : 'app-badge app-badge--danger'}>
                  {w.active ? 'active' : 'disabled'}
                </span>
              </div>
              {w.disabled_reason ? <p className="app-muted">{w.disabled_reason}</p> : null}
              <div className="app-later__actions">
                <button type="button" className="app-link-button" onClick={() => setOpen(open === w.id ? null : w.id)}>
                  {open === w.id ? 'Hide deliveries' : 'Deliveries'}
                </button>
                <button
                  type="button"
                  className="app-link-button"
                  onClick={() => void client.updateWebhook(w.id, { active: !w.active }).then(load).catch(fail)}
                >
                  {w.active ? 'Disable' : 'Enable'}
                </button>
                <button
                  type="button"
                  className="app-link-button app-link-button--danger"
                  onClick={() => void client.deleteWebhook(w.id).then(load).catch(fail)}
                >
                  Delete
                </button>
              </div>
              {open === w.id ? <Deliveries webhook={w} /> : null}
            </li>
          ))}
        </ul>
      )}
      <form id={`${id}-add`} className="app-form" onSubmit={add} aria-label="Add a webhook">
        <h3 className="app-later__heading">Add an endpoint</h3>
        <label className="app-field">
          <span className="app-field__label">URL</span>
          <input
            className="app-input"
            type="url"
            required
            placeholder="https://example.com/parley-events"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        </label>
        <fieldset className="app-field">
          <legend className="app-field__label">Events</legend>
          {EVENT_CHOICES.map((ev) => (
            <label key={ev} className="app-check">
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) => setEvents((cur) => (e.target.checked ? [...cur, ev] : cur.filter((x) => x !== ev)))}
              />{' '}
              {ev}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="app-button app-button--primary" disabled={events.length === 0}>
          Add webhook
        </button>
      </form>
    </>
  );
}

/** The webhooks panel as a dialog of its own (the workspace menu); the admin console has it as a tab. */
export function WebhooksDialog({ onClose }: { onClose(): void }) {
  return (
    <Modal title="Webhooks" subtitle="Send this workspace's events to your own server" onClose={onClose} size="large">
      <WebhooksPanel />
    </Modal>
  );
}

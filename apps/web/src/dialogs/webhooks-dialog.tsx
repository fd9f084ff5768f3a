/**
 * Webhooks of the workspace (owners and admins): the endpoints, adding one (its signing secret
 * is shown once), pausing and re-enabling one (what waited meanwhile, and what was dropped past
 * the retention, are counted on it), a test event, a secret rotation with an overlap, a replay of
 * a time range, deleting, and each one's delivery log with "Send again". The server's docs
 * (docs/protocol/webhooks.md) say how a receiver checks signatures.
 */
import type { WebhookDelivery, WebhookEndpoint } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { type FormEvent, useCallback, useEffect, useId, useState } from 'react';
import { Modal } from '../components/modal.js';

/** A Date as the value of a datetime-local input (local time, minutes). */
function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** How long the old secret keeps signing after a rotation (seconds). */
const OVERLAPS = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: 'No overlap (the old secret stops now)', seconds: 0 },
] as const;

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

/** What a rotation or a creation answered: the secret, shown once. */
interface ShownSecret {
  secret: string;
  url: string;
  /** During a rotation's overlap: until when the old secret signs too. */
  oldUntil: string | null;
  rotated: boolean;
}

/** Rotate an endpoint's secret, choosing how long the old one keeps signing. */
function RotateForm({ webhook, onRotated }: { webhook: WebhookEndpoint; onRotated(s: ShownSecret): void }) {
  const client = useChatClient();
  const [overlap, setOverlap] = useState<number>(86_400);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await client.rotateWebhookSecret(webhook.id, overlap);
      onRotated({
        secret: r.secret,
        url: webhook.url,
        oldUntil: r.webhook.previous_secret_expires_at,
        rotated: true,
      });
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="app-form app-webhook__form" onSubmit={submit} aria-label={`Rotate the secret of ${webhook.url}`}>
      <label className="app-field">
        <span className="app-field__label">The old secret keeps signing for</span>
        <select className="app-input" value={overlap} onChange={(e) => setOverlap(Number(e.target.value))}>
          {OVERLAPS.map((o) => (
            <option key={o.seconds} value={o.seconds}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
      <p className="app-muted">
        Meanwhile each request is signed with both secrets, so your receiver can switch whenever it likes.
      </p>
      {error ? <p className="app-form__error">{error}</p> : null}
      <button type="submit" className="app-button app-button--primary" disabled={busy}>
        Rotate
      </button>
    </form>
  );
}

/** Replay the channel events of a time range to an endpoint, all pages of it. */
function ReplayForm({ webhook, onDone }: { webhook: WebhookEndpoint; onDone(): void }) {
  const client = useChatClient();
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 86_400_000)));
  // The input holds minutes: the next minute, so what was committed just now is in the range.
  const [to, setTo] = useState(() => localInput(new Date(Date.now() + 60_000)));
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const since = new Date(from).toISOString();
      const until = new Date(to).toISOString();
      let queued = 0;
      let after: string | null = null;
      do {
        const r = await client.replayWebhook(webhook.id, { since, until, ...(after ? { after } : {}) });
        queued += r.queued;
        after = r.next;
      } while (after);
      setResult(queued === 1 ? 'Queued 1 event.' : `Queued ${queued} events.`);
      onDone();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="app-form app-webhook__form" onSubmit={submit} aria-label={`Replay events to ${webhook.url}`}>
      <p className="app-muted">
        Sends the channel events of this range again, with their original ids, after what is already queued. User and
        workspace-wide events are not kept for replay.
      </p>
      <div className="app-webhook__range">
        <label className="app-field">
          <span className="app-field__label">From</span>
          <input
            className="app-input"
            type="datetime-local"
            required
            value={from}
            onChange={(e) => setFrom(e.target.value)}
          />
        </label>
        <label className="app-field">
          <span className="app-field__label">To</span>
          <input
            className="app-input"
            type="datetime-local"
            required
            value={to}
            onChange={(e) => setTo(e.target.value)}
          />
        </label>
      </div>
      {error ? <p className="app-form__error">{error}</p> : null}
      {result ? <p role="status">{result}</p> : null}
      <button type="submit" className="app-button app-button--primary" disabled={busy}>
        Replay
      </button>
    </form>
  );
}

/** One endpoint: its state and counts, and what can be done with it. */
function EndpointItem({
  w,
  onChanged,
  onSecret,
  onError,
}: {
  w: WebhookEndpoint;
  onChanged(): void;
  onSecret(s: ShownSecret): void;
  onError(e: unknown): void;
}) {
  const client = useChatClient();
  const [open, setOpen] = useState<'deliveries' | 'rotate' | 'replay' | null>(null);
  const [test, setTest] = useState<{ text: string; ok: boolean } | null>(null);
  const [testing, setTesting] = useState(false);
  const toggle = (what: 'deliveries' | 'rotate' | 'replay') => setOpen(open === what ? null : what);
  const sendTest = async () => {
    setTesting(true);
    setTest(null);
    try {
      const d = await client.testWebhook(w.id);
      setTest(
        d.status === 'delivered'
          ? { ok: true, text: `Test event delivered (${d.response_status}) in ${d.latency_ms} ms.` }
          : { ok: false, text: `Test event failed: ${d.error ?? 'no answer'}` },
      );
      onChanged();
    } catch (err) {
      onError(err);
    } finally {
      setTesting(false);
    }
  };
  const state = w.active ? 'active' : w.disabled_reason?.startsWith('Paused') ? 'paused' : 'disabled';
  return (
    <li className="app-later__item" data-testid="webhook-item" data-state={state}>
      <div>
        <strong>{w.url}</strong> <span className="app-muted">{w.events.join(', ')}</span>{' '}
        <span className={w.active ? 'app-badge' : 'app-badge app-badge--danger'}>{state}</span>{' '}
        {w.pending > 0 ? (
          <span className="app-badge" data-testid="webhook-pending" title="Deliveries waiting to be sent">
            {w.pending} waiting
          </span>
        ) : null}{' '}
        {w.dropped > 0 ? (
          <span
            className="app-badge app-badge--danger"
            data-testid="webhook-dropped"
            title={`Dropped after waiting past the retention${w.dropped_at ? `, last ${new Date(w.dropped_at).toLocaleString()}` : ''}`}
          >
            {w.dropped} dropped
          </span>
        ) : null}
      </div>
      {w.disabled_reason ? <p className="app-muted">{w.disabled_reason}</p> : null}
      {!w.active ? (
        <p className="app-muted">
          What it would receive is kept for it and sent in order when it is re-enabled; deliveries kept longer than the
          retention (7 days by default) are dropped and counted.
        </p>
      ) : null}
      {w.previous_secret_expires_at ? (
        <p className="app-muted">
          The previous secret also signs until {new Date(w.previous_secret_expires_at).toLocaleString()}.
        </p>
      ) : null}
      <div className="app-later__actions app-webhook__actions">
        <button type="button" className="app-link-button" onClick={() => toggle('deliveries')}>
          {open === 'deliveries' ? 'Hide deliveries' : 'Deliveries'}
        </button>
        <button type="button" className="app-link-button" disabled={testing} onClick={() => void sendTest()}>
          Send test event
        </button>
        <button type="button" className="app-link-button" onClick={() => toggle('rotate')}>
          Rotate secret
        </button>
        <button type="button" className="app-link-button" onClick={() => toggle('replay')}>
          Replay
        </button>
        <button
          type="button"
          className="app-link-button"
          onClick={() => void client.updateWebhook(w.id, { active: !w.active }).then(onChanged).catch(onError)}
        >
          {w.active ? 'Pause' : 'Re-enable'}
        </button>
        <button
          type="button"
          className="app-link-button app-link-button--danger"
          onClick={() => void client.deleteWebhook(w.id).then(onChanged).catch(onError)}
        >
          Delete
        </button>
      </div>
      {test ? (
        <p role="status" className={test.ok ? 'app-muted' : 'app-form__error'} data-testid="webhook-test-result">
          {test.text}
        </p>
      ) : null}
      {open === 'deliveries' ? <Deliveries webhook={w} /> : null}
      {open === 'rotate' ? (
        <RotateForm
          webhook={w}
          onRotated={(s) => {
            setOpen(null);
            onSecret(s);
            onChanged();
          }}
        />
      ) : null}
      {open === 'replay' ? <ReplayForm webhook={w} onDone={onChanged} /> : null}
    </li>
  );
}

/** The workspace's webhooks: add one, see each one's deliveries, redeliver, test, rotate, replay, remove. */
export function WebhooksPanel() {
  const client = useChatClient();
  const id = useId();
  const [list, setList] = useState<WebhookEndpoint[] | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['message.*']);
  const [secret, setSecret] = useState<ShownSecret | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = (e: unknown) => setError(message(e));
  const load = useCallback(() => {
    client
      .listWebhooks()
      .then(setList)
      .catch((e: unknown) => setError(message(e)));
  }, [client]);
  useEffect(load, [load]);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await client.createWebhook({ url: url.trim(), events });
      setSecret({ secret: r.secret, url: r.webhook.url, oldUntil: null, rotated: false });
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
            {secret.rotated ? 'New signing secret' : 'Signing secret'} for {secret.url} — copy it now, it is not shown
            again. Check each request's <code>X-Parley-Signature</code> with it.
            {secret.rotated
              ? secret.oldUntil
                ? ` The old secret keeps signing too until ${new Date(secret.oldUntil).toLocaleString()}.`
                : ' The old secret no longer signs.'
              : ''}
          </p>
          <input
            className="app-input"
            readOnly
            aria-label="Signing secret"
            value={secret.secret}
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
            <EndpointItem key={w.id} w={w} onChanged={load} onSecret={setSecret} onError={fail} />
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

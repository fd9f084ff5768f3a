/** "Later": my pending reminders and my scheduled messages, with send now, edit and cancel. */
import type { Reminder, ScheduledMessage } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Modal } from '../components/modal.js';

/** A Date as the value of a datetime-local input (local time, minutes). */
function localInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function ScheduledItem({
  s,
  sending,
  onChanged,
  onSent,
}: {
  s: ScheduledMessage;
  /** "Send now" was asked for it: waiting for the job. */
  sending: boolean;
  onChanged(): void;
  onSent(id: string): void;
}) {
  const client = useChatClient();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(s.text);
  const [at, setAt] = useState(localInput(s.send_at));
  const [error, setError] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const save = () =>
    client
      // The time only when it was changed: the input holds minutes, and sending it back
      // unchanged would move the send up to a minute earlier.
      .editScheduledMessage(s.id, {
        text,
        ...(at !== localInput(s.send_at) ? { send_at: new Date(at).toISOString() } : {}),
      })
      .then(() => {
        setEditing(false);
        onChanged();
      })
      .catch(fail);
  // Its time moved to now: the job sends it within a moment, and the list drops it then.
  const sendNow = () =>
    client
      .editScheduledMessage(s.id, { send_at: new Date().toISOString() })
      .then(() => onSent(s.id))
      .catch(fail);
  return (
    <li className="app-later__item" data-testid="scheduled-item">
      {editing ? (
        <div className="app-form">
          <textarea
            className="app-input"
            aria-label="Scheduled text"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <input
            type="datetime-local"
            className="app-input"
            aria-label="Send at"
            value={at}
            onChange={(e) => setAt(e.target.value)}
          />
          <div className="app-later__actions">
            <button type="button" className="app-button app-button--primary" onClick={() => void save()}>
              Save
            </button>
            <button type="button" className="app-button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <>
          <div>
            <strong>{new Date(s.send_at).toLocaleString()}</strong> <span className="app-muted">in {s.cid}</span>
            {s.status === 'failed' ? <span className="app-form__error"> — not sent: {s.error}</span> : null}
          </div>
          <p className="app-later__text">{s.text}</p>
          <div className="app-later__actions">
            {sending ? <span className="app-muted">Sending…</span> : null}
            {s.status === 'pending' && !sending ? (
              <>
                <button type="button" className="app-link-button" onClick={() => void sendNow()}>
                  Send now
                </button>
                <button type="button" className="app-link-button" onClick={() => setEditing(true)}>
                  Edit
                </button>
              </>
            ) : null}
            {sending ? null : (
              <button
                type="button"
                className="app-link-button"
                onClick={() => void client.cancelScheduledMessage(s.id).then(onChanged).catch(fail)}
              >
                {s.status === 'failed' ? 'Dismiss' : 'Cancel send'}
              </button>
            )}
          </div>
        </>
      )}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}

export function LaterDialog({ onClose }: { onClose(): void }) {
  const client = useChatClient();
  const [reminders, setReminders] = useState<Reminder[] | null>(null);
  const [scheduled, setScheduled] = useState<ScheduledMessage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    Promise.all([client.listReminders(), client.listScheduledMessages()])
      .then(([r, s]) => {
        setReminders(r);
        setScheduled(s);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [client]);
  useEffect(load, [load]);
  // After "Send now", look again once the job has had time to send it (and once more later).
  const timers = useRef<ReturnType<typeof setTimeout>[]>([]);
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const [sending, setSending] = useState<ReadonlySet<string>>(new Set());
  const sent = useCallback(
    (id: string) => {
      setSending((before) => new Set(before).add(id));
      timers.current.push(setTimeout(load, 1500), setTimeout(load, 5000));
    },
    [load],
  );

  return (
    <Modal title="Later" subtitle="Reminders and scheduled messages" onClose={onClose}>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <section aria-label="Scheduled messages">
        <h3 className="app-later__heading">Scheduled messages</h3>
        {scheduled === null ? (
          <p className="app-muted">Loading…</p>
        ) : scheduled.length === 0 ? (
          <p className="app-muted">Nothing scheduled. Type /schedule 1h your message in a conversation.</p>
        ) : (
          <ul className="app-later">
            {scheduled.map((s) => (
              <ScheduledItem
                key={`${s.id}:${s.updated_at}`}
                s={s}
                sending={sending.has(s.id)}
                onChanged={load}
                onSent={sent}
              />
            ))}
          </ul>
        )}
      </section>
      <section aria-label="Reminders">
        <h3 className="app-later__heading">Reminders</h3>
        {reminders === null ? (
          <p className="app-muted">Loading…</p>
        ) : reminders.length === 0 ? (
          <p className="app-muted">No reminders. Use Remind me in a message's actions, or /remind 20m something.</p>
        ) : (
          <ul className="app-later">
            {reminders.map((r) => (
              <li key={r.id} className="app-later__item" data-testid="reminder-item">
                <div>
                  <strong>{new Date(r.remind_at).toLocaleString()}</strong>
                  {r.cid ? <span className="app-muted"> in {r.cid}</span> : null}
                </div>
                <p className="app-later__text">{r.note ?? r.message?.text ?? '(a deleted message)'}</p>
                <button
                  type="button"
                  className="app-link-button"
                  onClick={() =>
                    void client
                      .cancelReminder(r.id)
                      .then(load)
                      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
                  }
                >
                  Cancel reminder
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Modal>
  );
}

/**
 * Notification preferences: what notifies (every message, mentions and DMs, nothing), per
 * conversation overrides, do-not-disturb now (for a while) and on a daily schedule in your
 * time zone, the email digest, and desktop notifications in this browser.
 */
import type {
  ChannelNotifyLevel,
  NotificationSettings,
  NotifyLevel,
  UpdateNotificationSettingsBody,
} from '@parley/protocol';
import { useChatClient, useClientState } from '@parley/react';
import { type FormEvent, useEffect, useId, useMemo, useState } from 'react';
import { Modal } from '../components/modal.js';
import { enableDesktopNotifications, permission, SETTINGS_CHANGED } from '../lib/desktop-notify.js';
import { type AlertPrefs, alertPrefs, setAlertPrefs } from '../lib/message-alerts.js';

const LEVELS: { value: NotifyLevel; label: string }[] = [
  { value: 'all', label: 'Every new message' },
  { value: 'mentions', label: 'Direct messages, mentions and threads I am in' },
  { value: 'none', label: 'Nothing' },
];
const PAUSES = [
  { minutes: 30, label: '30 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 120, label: '2 hours' },
  { minutes: 8 * 60, label: '8 hours' },
];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function timeZones(current: string): string[] {
  const all = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set(['UTC', current, ...all])];
}

export function NotificationsDialog({ workspaceId, onClose }: { workspaceId: string; onClose(): void }) {
  const client = useChatClient();
  const id = useId();
  const [s, setS] = useState<NotificationSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [level, setLevel] = useState<NotifyLevel>('mentions');
  const [tz, setTz] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [scheduleOn, setScheduleOn] = useState(false);
  const [start, setStart] = useState('22:00');
  const [end, setEnd] = useState('08:00');
  const [days, setDays] = useState<number[]>([0, 1, 2, 3, 4, 5, 6]);
  const [digest, setDigest] = useState(true);
  const [overrides, setOverrides] = useState<Record<string, ChannelNotifyLevel>>({});
  const [perm, setPerm] = useState(permission());
  // Sounds and toasts are this device's (lib/message-alerts.ts): saved at once, not with the form.
  const [alerts, setAlerts] = useState<AlertPrefs>(alertPrefs);
  const changeAlerts = (next: AlertPrefs) => {
    setAlerts(next);
    setAlertPrefs(next);
  };
  const channels = useClientState((st) =>
    st.channelList.map((cid) => st.channels[cid]).filter((c) => !!c?.channel.membership),
  );
  const zones = useMemo(() => timeZones(tz), [tz]);

  const load = (next: NotificationSettings) => {
    setS(next);
    setLevel(next.level);
    if (next.time_zone !== 'UTC' || next.dnd_schedule) setTz(next.time_zone);
    setScheduleOn(!!next.dnd_schedule);
    if (next.dnd_schedule) {
      setStart(next.dnd_schedule.start);
      setEnd(next.dnd_schedule.end);
      setDays(next.dnd_schedule.days ?? [0, 1, 2, 3, 4, 5, 6]);
    }
    setDigest(next.email_digest);
    setOverrides(Object.fromEntries(next.channels.map((c) => [c.cid, c.level])));
  };
  // Until the settings are here, what they govern cannot be changed (the answer would overwrite
  // it) nor saved; this device's sounds and toasts can.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` only sets this dialog's state
  useEffect(() => {
    client
      .notificationSettings()
      .then(load)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [client]);

  const changed = (next: NotificationSettings) => {
    load(next);
    window.dispatchEvent(new Event(SETTINGS_CHANGED));
  };
  const patch = async (body: UpdateNotificationSettingsBody) => {
    try {
      setError(null);
      changed(await client.updateNotificationSettings(body));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setError(null);
      if (scheduleOn && days.length === 0) throw new Error('Pick at least one day for the schedule');
      const next = await client.updateNotificationSettings({
        level,
        time_zone: tz,
        email_digest: digest,
        dnd_schedule: scheduleOn ? { start, end, ...(days.length < 7 ? { days } : {}) } : null,
      });
      for (const c of channels) {
        if (!c) continue;
        const want = overrides[c.cid] ?? 'default';
        const had = s?.channels.find((x) => x.cid === c.cid)?.level ?? 'default';
        if (want !== had) await client.channel(c.channel.type, c.channel.id).setNotificationLevel(want);
      }
      changed(await client.notificationSettings().catch(() => next));
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const dndUntil = s?.dnd_until ? new Date(s.dnd_until) : null;
  return (
    <Modal
      title="Notifications"
      onClose={onClose}
      footer={
        <button type="submit" form={`${id}-form`} className="app-button app-button--primary" disabled={!s}>
          Save
        </button>
      }
    >
      <form id={`${id}-form`} className="app-form app-notify-form" onSubmit={save} aria-busy={!s}>
        <fieldset disabled={!s}>
          <legend>Notify me about</legend>
          {LEVELS.map((l) => (
            <label key={l.value} className="app-notify-choice">
              <input
                type="radio"
                name={`${id}-level`}
                value={l.value}
                checked={level === l.value}
                onChange={() => setLevel(l.value)}
              />
              {l.label}
            </label>
          ))}
        </fieldset>

        <fieldset disabled={!s}>
          <legend>Do not disturb</legend>
          <p className="app-muted" data-testid="dnd-state">
            {s?.dnd_active
              ? dndUntil && dndUntil.getFullYear() < 9000
                ? `Paused until ${dndUntil.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`
                : 'Paused'
              : 'Notifications are on'}
          </p>
          <div className="app-row">
            {PAUSES.map((p) => (
              <button
                key={p.minutes}
                type="button"
                className="app-button app-button--small"
                onClick={() => void patch({ dnd_minutes: p.minutes })}
              >
                Pause {p.label}
              </button>
            ))}
            {s?.dnd_until ? (
              <button
                type="button"
                className="app-button app-button--small"
                onClick={() => void patch({ dnd_minutes: 0 })}
              >
                Resume now
              </button>
            ) : null}
          </div>
          <label className="app-notify-choice">
            <input type="checkbox" checked={scheduleOn} onChange={(e) => setScheduleOn(e.target.checked)} />
            Every day, pause from
            <input
              type="time"
              className="app-input app-input--small"
              aria-label="Pause from"
              value={start}
              disabled={!scheduleOn}
              onChange={(e) => setStart(e.target.value)}
            />
            to
            <input
              type="time"
              className="app-input app-input--small"
              aria-label="Pause until"
              value={end}
              disabled={!scheduleOn}
              onChange={(e) => setEnd(e.target.value)}
            />
          </label>
          <fieldset className="app-notify-days" aria-label="Days">
            {DAYS.map((d, i) => (
              <label key={d} className="app-notify-choice">
                <input
                  type="checkbox"
                  disabled={!scheduleOn}
                  checked={days.includes(i)}
                  onChange={(e) =>
                    setDays((cur) => (e.target.checked ? [...cur, i].sort() : cur.filter((x) => x !== i)))
                  }
                />
                {d}
              </label>
            ))}
          </fieldset>
          <label className="app-field" htmlFor={`${id}-tz`}>
            <span className="app-field__label">Time zone</span>
            <select id={`${id}-tz`} className="app-input" value={tz} onChange={(e) => setTz(e.target.value)}>
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          </label>
        </fieldset>

        <fieldset disabled={!s}>
          <legend>Conversations</legend>
          <div className="app-notify-channels">
            {channels.map((c) =>
              c ? (
                <label key={c.cid} className="app-notify-choice" style={{ display: 'contents' }}>
                  <span>
                    {c.channel.type === 'dm'
                      ? (c.channel.name ?? 'Direct message')
                      : `#${c.channel.name ?? c.channel.id}`}
                  </span>
                  <select
                    className="app-input app-input--small"
                    aria-label={`Notifications for ${c.channel.name ?? c.cid}`}
                    value={overrides[c.cid] ?? 'default'}
                    onChange={(e) => setOverrides((o) => ({ ...o, [c.cid]: e.target.value as ChannelNotifyLevel }))}
                  >
                    <option value="default">Default</option>
                    <option value="all">Every message</option>
                    <option value="mentions">Mentions</option>
                    <option value="none">Nothing</option>
                  </select>
                </label>
              ) : null,
            )}
          </div>
        </fieldset>

        <fieldset disabled={!s}>
          <legend>Elsewhere</legend>
          <label className="app-notify-choice">
            <input type="checkbox" checked={digest} onChange={(e) => setDigest(e.target.checked)} />
            Email me mentions and direct messages I have not read for a while
          </label>
          <p className="app-muted">
            Desktop notifications in this browser:{' '}
            {perm === 'granted'
              ? 'on'
              : perm === 'denied'
                ? 'blocked (allow them in the browser settings)'
                : perm === 'unsupported'
                  ? 'not supported'
                  : 'off'}
          </p>
          {perm === 'default' ? (
            <button
              type="button"
              className="app-button app-button--small"
              onClick={() => void enableDesktopNotifications(client, workspaceId).then(setPerm)}
            >
              Enable desktop notifications
            </button>
          ) : null}
        </fieldset>

        <fieldset>
          <legend>On this device</legend>
          <label className="app-notify-choice">
            <input
              type="checkbox"
              checked={alerts.sound}
              onChange={(e) => changeAlerts({ ...alerts, sound: e.target.checked })}
            />
            Play a sound for direct messages and mentions in other conversations
          </label>
          <label className="app-notify-choice">
            <input
              type="checkbox"
              checked={alerts.toast}
              onChange={(e) => changeAlerts({ ...alerts, toast: e.target.checked })}
            />
            Show a toast for direct messages and mentions in other conversations
          </label>
        </fieldset>
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}

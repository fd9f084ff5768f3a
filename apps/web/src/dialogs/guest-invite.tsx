/**
 * Owners and admins: a guest invite link — the guest joins only the channels picked here and
 * can post until the chosen day (then reads only, until an admin extends it).
 */
import type { CreatedInvite, Workspace } from '@parley/protocol';
import { useClientState } from '@parley/react';
import { useMemo, useState } from 'react';
import { accounts } from '../lib/api.js';

const DAY = 24 * 3600_000;
const dateInput = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function GuestInvite({ workspace }: { workspace: Workspace }) {
  const channels = useClientState((s) => s.channels);
  const choices = useMemo(
    () =>
      Object.values(channels)
        .filter((c) => c.channel.type !== 'dm' && c.channel.membership && !c.channel.archived_at)
        .map((c) => ({ cid: c.cid, name: c.channel.name ?? c.cid }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    [channels],
  );
  const [picked, setPicked] = useState<string[]>([]);
  const [until, setUntil] = useState(dateInput(Date.now() + 30 * DAY));
  const [invite, setInvite] = useState<CreatedInvite | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      // The end of the chosen day, in the inviter's time zone.
      const end = new Date(`${until}T23:59:59`);
      setInvite(
        await accounts.createInvite(workspace.id, { guest: { channels: picked, expires_at: end.toISOString() } }),
      );
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="app-guest-invite" aria-label="Invite a guest">
      <h3 className="app-section-title">Invite a guest</h3>
      <p className="app-muted">
        A guest sees only the channels you pick, not the member list, and can post until the day you choose.
      </p>
      <fieldset className="app-field">
        <legend className="app-field__label">Channels</legend>
        {choices.map((c) => (
          <label key={c.cid} className="app-check">
            <input
              type="checkbox"
              data-testid={`guest-channel-${c.cid}`}
              checked={picked.includes(c.cid)}
              onChange={(e) => setPicked((p) => (e.target.checked ? [...p, c.cid] : p.filter((x) => x !== c.cid)))}
            />
            <span>#{c.name}</span>
          </label>
        ))}
      </fieldset>
      <label className="app-field">
        <span className="app-field__label">Can post until</span>
        <input
          className="app-input"
          type="date"
          min={dateInput(Date.now())}
          value={until}
          data-testid="guest-until"
          onChange={(e) => setUntil(e.target.value)}
        />
      </label>
      <div className="app-row app-row--end">
        <button
          type="button"
          className="app-button app-button--small app-button--primary"
          disabled={busy || picked.length === 0 || !until}
          onClick={() => void create()}
          data-testid="guest-invite-create"
        >
          Create guest link
        </button>
      </div>
      {invite ? (
        <input
          className="app-input"
          readOnly
          aria-label="Guest invite link"
          data-testid="guest-invite-link"
          value={new URL(invite.url_path, window.location.origin).href}
          onFocus={(e) => e.currentTarget.select()}
        />
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}

/**
 * Pieces of a members-dialog row: a guest's expiry with "extend a week" for owners and admins,
 * and an owner's "make owner" that hands the workspace over (asks once more first).
 */
import type { Workspace, WorkspaceMember } from '@parley/protocol';
import { useState } from 'react';
import { membership } from '../lib/membership-api.js';

const WEEK = 7 * 24 * 3600_000;
const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });

export function GuestControls({
  workspace,
  member,
  me,
  onChanged,
}: {
  workspace: Workspace;
  member: WorkspaceMember;
  me: WorkspaceMember;
  onChanged(): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (member.role !== 'guest' || !member.guest_expires_at) return null;
  const until = member.guest_expires_at;
  const expired = Date.parse(until) <= Date.now();
  const manager = me.role === 'owner' || me.role === 'admin';
  const extend = async () => {
    setBusy(true);
    setError(null);
    try {
      await membership.updateGuest(
        workspace.id,
        member.account_id,
        new Date(Math.max(Date.now(), Date.parse(until)) + WEEK).toISOString(),
      );
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="app-guest-controls">
      <span className="app-muted" data-testid={`guest-until-${member.account_id}`}>
        {expired ? `Expired ${day(until)}` : `Until ${day(until)}`}
      </span>
      {manager ? (
        <button
          type="button"
          className="app-button app-button--small"
          aria-label={`Extend ${member.name} by a week`}
          disabled={busy}
          onClick={() => void extend()}
        >
          +1 week
        </button>
      ) : null}
      {error ? (
        <span className="app-form__error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

export function TransferButton({
  workspace,
  member,
  onChanged,
}: {
  workspace: Workspace;
  member: WorkspaceMember;
  onChanged(): void;
}) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (member.role === 'guest' || member.role === 'owner' || member.deactivated_at !== null) return null;
  const transfer = async () => {
    setError(null);
    try {
      await membership.transfer(workspace.id, member.account_id);
      // Our own role changed: the workspace object everywhere is stale, reload to see it.
      window.location.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setAsking(false);
      onChanged();
    }
  };
  return (
    <>
      <button
        type="button"
        className={`app-button app-button--small${asking ? ' app-button--danger' : ''}`}
        aria-label={asking ? `Confirm: make ${member.name} the owner` : `Make ${member.name} the owner`}
        title={asking ? 'You become an admin' : undefined}
        onClick={() => (asking ? void transfer() : setAsking(true))}
      >
        {asking ? 'Confirm transfer' : 'Make owner'}
      </button>
      {error ? (
        <span className="app-form__error" role="alert">
          {error}
        </span>
      ) : null}
    </>
  );
}

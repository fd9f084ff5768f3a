/**
 * The workspace's members with their roles. Owners remove or deactivate anyone, admins members
 * (the server's rule, mirrored here only to decide which rows show the buttons); everyone can
 * leave from their own row. Removing and leaving ask first. `LeaveDialog` is the same leave,
 * on its own, from the workspace menu.
 */
import type { EmailVisibility, Workspace, WorkspaceMember, WorkspaceRole } from '@parley/protocol';
import { Avatar, useChatClient, useClientState } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';
import { Modal } from '../components/modal.js';
import { useAccount } from '../hooks/account.js';
import { ApiError, accounts } from '../lib/api.js';
import { roleLabel } from '../lib/names.js';
import { leaveWorkspace } from '../lib/token-provider.js';
import { GuestControls, TransferButton } from './guest-controls.js';
import { JoinSettings } from './join-settings.js';

const RANK: Record<WorkspaceRole, number> = { owner: 0, admin: 1, member: 2, guest: 3 };

/** Whether `me` may remove `them` (not yourself: that is leaving). */
export function mayRemove(me: WorkspaceRole, them: WorkspaceRole): boolean {
  return me === 'owner' || (me === 'admin' && (them === 'member' || them === 'guest'));
}

/** An error as a sentence: the server's messages carry no final stop. */
function message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Leave the workspace; the error (e.g. the last owner's) is kept to show. */
function useLeave(workspace: Workspace) {
  const client = useChatClient();
  const { state } = useAccount();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const leave = async () => {
    if (!state.account) return;
    setBusy(true);
    setError(null);
    try {
      await leaveWorkspace(client, workspace.id, state.account.id);
    } catch (e) {
      setError(message(e));
      setBusy(false);
    }
  };
  return { leave, busy, error };
}

function ErrorNote({ text }: { text: string | null }) {
  return text ? (
    <p className="app-form__error" role="alert">
      {text}
    </p>
  ) : null;
}

function MemberRow({
  workspace,
  member,
  me,
  onRemoved,
}: {
  workspace: Workspace;
  member: WorkspaceMember;
  me: WorkspaceMember | undefined;
  onRemoved(): void;
}) {
  const self = member.account_id === me?.account_id;
  const removable = !self && !!me && mayRemove(me.role, member.role);
  const deactivated = member.deactivated_at !== null;
  /** What the row asks to confirm: leaving or removing, or deactivating; or a new role. */
  const [asking, setAsking] = useState<false | 'remove' | 'deactivate' | 'role'>(false);
  const [newRole, setNewRole] = useState<WorkspaceRole>(member.role);
  // Owners change roles (theirs too: another owner first, the server says so otherwise).
  const rolesEditable = me?.role === 'owner';
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const leaving = useLeave(workspace);
  // The chat profile, when the client has it: its picture.
  const user = useClientState((s) => s.users[member.user_id]);

  const act = async (what: 'remove' | 'deactivate' | 'reactivate' | 'role') => {
    setBusy(true);
    setError(null);
    try {
      if (what === 'remove') await accounts.removeMember(workspace.id, member.account_id);
      else if (what === 'role') await accounts.setRole(workspace.id, member.account_id, newRole);
      else await accounts.setMemberActive(workspace.id, member.account_id, what === 'reactivate');
      setAsking(false);
      setBusy(false);
      onRemoved();
    } catch (e) {
      setError(message(e));
      setBusy(false);
    }
  };

  return (
    <li className="app-roster__row" data-testid={`workspace-member-${member.account_id}`}>
      <div className="app-roster__main">
        <Avatar user={user ?? { name: member.name, username: null, image: null }} id={member.user_id} size={36} />
        <span className="app-roster__text">
          <span className="app-roster__name">
            {member.name}
            {self ? <span className="app-muted"> (you)</span> : null}
            <span className={`app-role app-role--${member.role}`}>{roleLabel(member.role)}</span>
            {deactivated ? <span className="app-role app-role--deactivated">Deactivated</span> : null}
          </span>
          {member.email ? <span className="app-roster__email">{member.email}</span> : null}
        </span>
        {!asking && me ? <GuestControls workspace={workspace} member={member} me={me} onChanged={onRemoved} /> : null}
        {!asking && me?.role === 'owner' && !self ? (
          <TransferButton workspace={workspace} member={member} onChanged={onRemoved} />
        ) : null}
        {!asking && rolesEditable ? (
          <button
            type="button"
            className="app-button app-button--small"
            aria-label={`Change the role of ${member.name}`}
            onClick={() => {
              setNewRole(member.role);
              setAsking('role');
            }}
          >
            Role
          </button>
        ) : null}
        {!asking && removable ? (
          deactivated ? (
            <button
              type="button"
              className="app-button app-button--small"
              aria-label={`Reactivate ${member.name}`}
              disabled={busy}
              onClick={() => void act('reactivate')}
            >
              Reactivate
            </button>
          ) : (
            <button
              type="button"
              className="app-button app-button--small"
              aria-label={`Deactivate ${member.name}`}
              onClick={() => setAsking('deactivate')}
            >
              Deactivate
            </button>
          )
        ) : null}
        {!asking && (removable || self) ? (
          <button
            type="button"
            className="app-button app-button--small app-button--danger-outline"
            aria-label={self ? 'Leave workspace' : `Remove ${member.name}`}
            onClick={() => setAsking('remove')}
          >
            {self ? 'Leave' : 'Remove'}
          </button>
        ) : null}
      </div>
      {asking === 'role' ? (
        <div className="app-roster__confirm">
          <label className="app-field">
            <span className="app-field__label">Role of {member.name}</span>
            <select className="app-input" value={newRole} onChange={(e) => setNewRole(e.target.value as WorkspaceRole)}>
              <option value="owner">Owner — everything, roles included</option>
              <option value="admin">Admin — settings, invites, members</option>
              <option value="member">Member — chat</option>
            </select>
          </label>
          <div className="app-row app-row--end">
            <button
              type="button"
              className="app-button app-button--small"
              onClick={() => {
                setAsking(false);
                setError(null);
              }}
            >
              Cancel
            </button>
            <button
              type="button"
              className="app-button app-button--small app-button--primary"
              disabled={busy || newRole === member.role}
              onClick={() => void act('role')}
            >
              Save role
            </button>
          </div>
          <ErrorNote text={error} />
        </div>
      ) : asking ? (
        <div className="app-roster__confirm">
          <p className="app-roster__question">
            {self
              ? `Leave ${workspace.name}? You lose access to its channels until someone invites you again.`
              : asking === 'deactivate'
                ? `Deactivate ${member.name}? They are signed out of ${workspace.name} at once and cannot open it until you reactivate them; their messages stay.`
                : `Remove ${member.name} from ${workspace.name}? They are signed out of it at once; their messages stay.`}
          </p>
          <div className="app-row app-row--end">
            <button
              type="button"
              className="app-button app-button--small"
              onClick={() => {
                setAsking(false);
                setError(null);
              }}
            >
              Cancel
            </button>
            <button
              type="button"
              className="app-button app-button--small app-button--danger"
              disabled={busy || leaving.busy}
              onClick={() => void (self ? leaving.leave() : act(asking === 'deactivate' ? 'deactivate' : 'remove'))}
            >
              {self ? 'Leave' : asking === 'deactivate' ? 'Deactivate' : 'Remove'}
            </button>
          </div>
          <ErrorNote text={self ? leaving.error : error} />
        </div>
      ) : null}
    </li>
  );
}

/**
 * The members list with its controls (roles, deactivation, removal, join settings, the
 * two-factor rule): the body of the members dialog and of the admin console's Members tab.
 */
export function MembersPanel({ workspace }: { workspace: Workspace }) {
  const { state } = useAccount();
  const [members, setMembers] = useState<WorkspaceMember[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    accounts
      .members(workspace.id)
      .then((list) => setMembers(list.sort((a, b) => RANK[a.role] - RANK[b.role] || a.name.localeCompare(b.name))))
      .catch((e: unknown) => setError(message(e)));
  }, [workspace.id]);
  useEffect(load, [load]);

  const me = members?.find((m) => m.account_id === state.account?.id);
  const role = me?.role ?? workspace.role;
  return (
    <>
      <ErrorNote text={error} />
      {role !== 'member' ? <RequireTwoFactor workspace={workspace} /> : null}
      {role !== 'member' ? <EmailVisibilitySetting workspace={workspace} /> : null}
      {role !== 'member' ? <JoinSettings workspace={workspace} onJoined={load} /> : null}
      {members === null ? (
        error ? null : (
          <p className="app-muted">Loading…</p>
        )
      ) : (
        <ul className="app-roster" aria-label="Workspace members">
          {members.map((m) => (
            <MemberRow key={m.account_id} workspace={workspace} member={m} me={me} onRemoved={load} />
          ))}
        </ul>
      )}
    </>
  );
}

export function MembersDialog({ workspace, onClose }: { workspace: Workspace; onClose(): void }) {
  const role = workspace.role;
  return (
    <Modal
      title={`Members of ${workspace.name}`}
      subtitle={
        role === 'member'
          ? 'Everyone in this workspace, with their roles.'
          : role === 'owner'
            ? 'As an owner you can change roles and remove anyone. A workspace always keeps at least one owner.'
            : 'As an admin you can remove members; owners and admins can be removed by an owner.'
      }
      onClose={onClose}
      footer={
        <button type="button" className="app-button" onClick={onClose}>
          Done
        </button>
      }
    >
      <MembersPanel workspace={workspace} />
    </Modal>
  );
}

/** Owners and admins: whether every member must sign in with two factors. */
function RequireTwoFactor({ workspace }: { workspace: Workspace }) {
  const [on, setOn] = useState(workspace.require_two_factor);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const change = async (next: boolean) => {
    // Shown at once, as checkboxes are; put back if the server says no.
    setOn(next);
    setBusy(true);
    setError(null);
    try {
      setOn((await accounts.updateWorkspace(workspace.id, { require_two_factor: next })).require_two_factor);
    } catch (e) {
      setOn(!next);
      const reason = e instanceof ApiError ? (e.details as { reason?: unknown } | undefined)?.reason : undefined;
      setError(
        reason === 'two_factor_required'
          ? 'Turn on two-factor sign-in for your own account first (Preferences).'
          : message(e),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="app-require-2fa">
      <label className="app-check">
        <input type="checkbox" checked={on} disabled={busy} onChange={(e) => void change(e.target.checked)} />
        <span>Require two-factor sign-in</span>
      </label>
      <span className="app-field__hint">
        Members without it cannot open {workspace.name}; those connected now are signed out of it.
      </span>
      <ErrorNote text={error} />
    </div>
  );
}

/** Owners and admins: who sees the members' email addresses (never guests). */
function EmailVisibilitySetting({ workspace }: { workspace: Workspace }) {
  const [value, setValue] = useState<EmailVisibility>(workspace.email_visibility);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const change = async (next: EmailVisibility) => {
    const before = value;
    setValue(next);
    setBusy(true);
    setError(null);
    try {
      setValue((await accounts.updateWorkspace(workspace.id, { email_visibility: next })).email_visibility);
    } catch (e) {
      setValue(before);
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="app-email-visibility">
      <label className="app-field">
        <span className="app-field__label">Who sees email addresses</span>
        <select
          className="app-input"
          value={value}
          disabled={busy}
          onChange={(e) => void change(e.target.value as EmailVisibility)}
        >
          <option value="admins">Owners and admins</option>
          <option value="members">Every member (not guests)</option>
        </select>
      </label>
      <span className="app-field__hint">In the members list and the People directory.</span>
      <ErrorNote text={error} />
    </div>
  );
}

/** "Leave workspace" from the workspace menu: ask, then leave (or show why not). */
export function LeaveDialog({ workspace, onClose }: { workspace: Workspace; onClose(): void }) {
  const { leave, busy, error } = useLeave(workspace);
  return (
    <Modal
      title={`Leave ${workspace.name}?`}
      size="small"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="app-button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="app-button app-button--danger" disabled={busy} onClick={() => void leave()}>
            Leave workspace
          </button>
        </>
      }
    >
      <p className="app-modal__text">
        You lose access to its channels and conversations until someone invites you again. Your messages stay.
      </p>
      <ErrorNote text={error} />
    </Modal>
  );
}

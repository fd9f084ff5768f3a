/** Invite people: make an invite link and copy it (owners and admins). */
import type { CreatedInvite, Workspace } from '@parley/protocol';
import { useCallback, useEffect, useState } from 'react';
import { LinkIcon } from '../components/icons.js';
import { Modal } from '../components/modal.js';
import { accounts } from '../lib/api.js';
import { copyText } from '../lib/clipboard.js';
import { GuestInvite } from './guest-invite.js';

export function InviteDialog({ workspace, onClose }: { workspace: Workspace; onClose(): void }) {
  const canInvite = workspace.role === 'owner' || workspace.role === 'admin';
  const [invite, setInvite] = useState<CreatedInvite | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);

  const create = useCallback(async () => {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setInvite(await accounts.createInvite(workspace.id));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }, [workspace.id]);

  useEffect(() => {
    if (canInvite) void create();
  }, [canInvite, create]);

  const url = invite ? new URL(invite.url_path, window.location.origin).href : '';
  const copy = async () => setCopied(await copyText(url));

  return (
    <Modal
      title={`Invite people to ${workspace.name}`}
      onClose={onClose}
      footer={
        <button type="button" className="app-button" onClick={onClose}>
          Done
        </button>
      }
    >
      {!canInvite ? (
        <p>Only the workspace’s owners and admins can invite people. Ask one of them for an invite link.</p>
      ) : (
        <>
          <p className="app-muted">
            Send this link to the person you want to invite. They can sign up and join in one step.
          </p>
          <div className="app-copy">
            <span className="app-copy__icon">
              <LinkIcon />
            </span>
            <input
              className="app-input app-copy__input"
              readOnly
              aria-label="Invite link"
              data-testid="invite-link"
              value={busy && !invite ? 'Creating a link…' : url}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button
              type="button"
              className="app-button app-button--primary"
              disabled={!invite}
              onClick={() => void copy()}
            >
              {copied ? 'Copied!' : 'Copy link'}
            </button>
          </div>
          {invite ? (
            <p className="app-field__hint">
              {invite.max_uses === null
                ? 'Anyone with the link can join'
                : `Works for ${invite.max_uses === 1 ? 'one person' : `${invite.max_uses} people`}`}
              , until {new Date(invite.expires_at).toLocaleDateString(undefined, { dateStyle: 'medium' })}.{' '}
              <button type="button" className="app-link-button" onClick={() => void create()} disabled={busy}>
                Create another link
              </button>
            </p>
          ) : null}
          {error ? (
            <p className="app-form__error" role="alert">
              {error}
            </p>
          ) : null}
          <GuestInvite workspace={workspace} />
        </>
      )}
    </Modal>
  );
}

/** Invite people: make an invite link and copy it, or have it mailed to someone (owners and admins). */
import type { CreatedInvite, Workspace } from '@parley/protocol';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
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
          <EmailInvite workspace={workspace} />
          <GuestInvite workspace={workspace} />
        </>
      )}
    </Modal>
  );
}

/** Mail an invite link (one of its own, for one person) to an address. */
function EmailInvite({ workspace }: { workspace: Workspace }) {
  const [to, setTo] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await accounts.createInvite(workspace.id, { email: to.trim(), max_uses: 1 });
      setSent(to.trim());
      setTo('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form className="app-form" onSubmit={send} data-testid="email-invite">
      <label className="app-field">
        <span className="app-field__label">Or send an invite by email</span>
        <span className="app-row">
          <input
            className="app-input"
            type="email"
            required
            placeholder="name@example.com"
            aria-label="Email address to invite"
            value={to}
            onChange={(e) => setTo(e.target.value)}
          />
          <button type="submit" className="app-button" disabled={!to.trim()}>
            Send invite
          </button>
        </span>
      </label>
      {sent ? <p className="app-field__hint">Invite sent to {sent}.</p> : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

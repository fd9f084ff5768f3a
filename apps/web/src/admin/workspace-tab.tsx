/**
 * The admin console's Workspace tab: the logo (owners and admins; cropped square in the browser,
 * uploaded through the chat API) and the web address, `/w/<slug>` (owners only; the server
 * checks it: lowercase letters, digits and dashes, not reserved, not taken). Old `/w/<id>` links
 * keep working.
 */
import { SLUG_PATTERN } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { type FormEvent, useId, useState } from 'react';
import { PhotoPicker } from '../components/photo-picker.js';
import { WorkspaceTile } from '../components/workspace-tile.js';
import { ApiError, accounts } from '../lib/api.js';
import { navigate, workspaceKey } from '../lib/router.js';
import type { AdminTabProps } from './tab-props.js';

/** A refused slug, in words. */
function slugProblem(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'CONFLICT') return 'Another workspace already has this address.';
    const reason = (err.details as { reason?: string } | undefined)?.reason;
    if (reason === 'reserved') return 'This address is reserved. Try another.';
    if (err.code === 'VALIDATION_ERROR')
      return 'Use 3–40 lowercase letters, digits and single dashes, starting and ending with a letter or digit.';
  }
  return err instanceof Error ? err.message : String(err);
}

export function WorkspaceTab({ workspace, onWorkspaceChange }: AdminTabProps) {
  const client = useChatClient();
  const id = useId();
  const owner = workspace.role === 'owner';
  const [slug, setSlug] = useState(workspace.slug ?? '');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  /** Read the workspace again (the logo is set through the chat API) and show it everywhere. */
  const refresh = async () => onWorkspaceChange?.(await accounts.workspace(workspace.id));

  const saveSlug = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setNote(null);
    try {
      const next = await accounts.updateWorkspace(workspace.id, { slug: slug.trim() ? slug.trim() : null });
      setSlug(next.slug ?? '');
      onWorkspaceChange?.(next);
      // The address bar follows at once: what a reload or a shared link opens.
      const rest = window.location.pathname.replace(/^\/w\/[^/]+/, '');
      navigate(`/w/${encodeURIComponent(workspaceKey(next))}${rest}${window.location.search}`, { replace: true });
      setNote({
        ok: true,
        text: next.slug ? 'Saved. The workspace is at its new address.' : 'Saved. The address is the id again.',
      });
    } catch (err) {
      setNote({ ok: false, text: slugProblem(err) });
    } finally {
      setBusy(false);
    }
  };

  const origin = window.location.origin;
  return (
    <div className="app-form app-workspace-settings">
      <h3 className="app-section-title">Logo</h3>
      <p className="app-muted">Shown in the workspace menu and the list of workspaces.</p>
      <PhotoPicker
        picture={<WorkspaceTile workspace={workspace} large />}
        label={workspace.logo ? 'Change logo' : 'Upload logo'}
        cropTitle="Crop the logo"
        hasPicture={!!workspace.logo}
        upload={async (square, onProgress) => {
          await client.profiles.setWorkspaceLogo(square, {
            onProgress: (sent, total) => onProgress(total ? sent / total : 0),
          });
          await refresh();
        }}
        remove={async () => {
          await client.profiles.removeWorkspaceLogo();
          await refresh();
        }}
      />
      <form onSubmit={saveSlug} aria-labelledby={`${id}-address`}>
        <h3 id={`${id}-address`} className="app-section-title">
          Web address
        </h3>
        <label className="app-field" htmlFor={`${id}-slug`}>
          <span className="app-field__label">Address</span>
          <span className="app-slug-input">
            <span className="app-slug-input__origin" aria-hidden="true">
              {origin}/w/
            </span>
            <input
              id={`${id}-slug`}
              className="app-input"
              value={slug}
              placeholder={workspace.id}
              maxLength={40}
              pattern={SLUG_PATTERN.replace(/^\^|\$$/g, '')}
              title="3–40 lowercase letters, digits and dashes"
              disabled={!owner}
              aria-describedby={`${id}-slug-hint`}
              onChange={(e) => setSlug(e.target.value.toLowerCase())}
            />
          </span>
          <span id={`${id}-slug-hint`} className="app-field__hint">
            {owner
              ? 'Lowercase letters, digits and dashes. Links with the old address keep working.'
              : 'Only owners change the address.'}
          </span>
        </label>
        {owner ? (
          <button
            type="submit"
            className="app-button app-button--primary"
            disabled={busy || slug.trim() === (workspace.slug ?? '')}
          >
            Save address
          </button>
        ) : null}
        {note ? (
          <p className={note.ok ? 'app-ok' : 'app-form__error'} role={note.ok ? 'status' : 'alert'}>
            {note.text}
          </p>
        ) : null}
      </form>
    </div>
  );
}

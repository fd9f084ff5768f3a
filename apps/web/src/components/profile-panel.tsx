/**
 * Someone's profile (the kit's card, with the custom fields the server lets the viewer see), with
 * buttons to message them, call them (a call in the DM), bring them to the office space you are
 * in, mute or unmute them — or, on your own profile, to edit it. Admins also correct others'
 * name and title (owners anyone's, admins those of members and guests), and edit the custom
 * fields the workspace lets them set on others' profiles.
 */
import { keepLoading } from '@parley/client';
import type { ProfileField, User } from '@parley/protocol';
import { UserProfileCard, useChatClient, useClientState, useMe, useUser } from '@parley/react';
import { useEffect, useState } from 'react';
import { AdminFieldsDialog, adminEditable } from '../dialogs/admin-fields-dialog.js';
import { AdminNameDialog } from '../dialogs/admin-name-dialog.js';
import { useSpaces } from '../hooks/use-spaces.js';
import { useWorkspaceRole } from '../hooks/use-workspace-role.js';

/** The app's custom profile fields, read once per mount (admins-only ones for admins alone). */
export function useProfileFields(): ProfileField[] | undefined {
  const client = useChatClient();
  const [fields, setFields] = useState<ProfileField[]>();
  // None shown while they cannot be read; asked again after 1, 2, 4… 30 s while that is the network.
  useEffect(() => {
    let live = true;
    const stop = keepLoading(() => client.profiles.fields().then((f) => live && setFields(f)), {
      onError: () => live && setFields((f) => f ?? []),
    });
    return () => {
      live = false;
      stop();
    };
  }, [client]);
  return fields;
}

export function ProfilePanel({
  userId,
  onOpenConversation,
  onEditProfile,
}: {
  userId: string;
  onOpenConversation(cid: string): void;
  onEditProfile?(): void;
}) {
  const client = useChatClient();
  const me = useMe();
  const fields = useProfileFields();
  const live = useUser(userId);
  const [loaded, setLoaded] = useState<User>();
  const [error, setError] = useState<string | null>(null);
  const [muted, setMuted] = useState(() => client.moderation.isMuted(userId));
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState(false);
  const [renaming, setRenaming] = useState(false);
  // Workspace owners and admins are the app's admins: they may set others' admin-editable fields.
  const admin = useClientState((s) => s.user?.role === 'admin');
  // Owners and admins are the app's admins (role `admin`): an admin does not outrank them.
  const outranks = useWorkspaceRole() !== 'admin' || loaded?.role !== 'admin';
  const spaces = useSpaces();
  const mine = spaces.find((s) => s.occupants.some((o) => o.user_id === me)) ?? null;
  const here = mine?.occupants.some((o) => o.user_id === userId) ?? false;
  useEffect(() => setMuted(client.moderation.isMuted(userId)), [client, userId]);
  // Read again whenever the profile changes (user.updated carries no custom field values).
  const version = live?.updated_at;
  useEffect(() => {
    let on = true;
    void version;
    const stop = keepLoading(() => client.profiles.get(userId).then((u) => on && setLoaded(u)));
    return () => {
      on = false;
      stop();
    };
  }, [client, userId, version]);
  const run = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const dm = async () => {
    const ch = client.channel('dm', { members: [userId] });
    await ch.createChannel();
    return ch;
  };
  const toggleMute = async () => {
    setBusy(true);
    await run(async () => {
      if (muted) await client.moderation.unmute(userId);
      else await client.moderation.mute(userId);
      setMuted(!muted);
    });
    setBusy(false);
  };
  const actions =
    userId !== me ? (
      <>
        <button
          type="button"
          className="app-button app-button--primary"
          onClick={() => void run(async () => onOpenConversation((await dm()).cid))}
        >
          Message
        </button>
        <button
          type="button"
          className="app-button"
          onClick={() =>
            void run(async () => {
              const ch = await dm();
              onOpenConversation(ch.cid);
              await client.call(ch.cid, {});
            })
          }
        >
          Call
        </button>
        {mine && !here ? (
          <button
            type="button"
            className="app-button"
            title={`Bring them to ${mine.name}`}
            onClick={() => void run(() => client.spaces.teleport(mine.id, userId).then(() => {}))}
          >
            Bring here
          </button>
        ) : null}
      </>
    ) : onEditProfile ? (
      <button type="button" className="app-button app-button--primary" onClick={onEditProfile}>
        Edit profile
      </button>
    ) : null;
  return (
    <div className="app-profile">
      <UserProfileCard
        userId={userId}
        {...(loaded ? { user: loaded } : {})}
        {...(fields ? { fields } : {})}
        actions={actions}
        className="app-profile__card"
      />
      {userId !== me ? (
        <button
          type="button"
          className="app-button app-button--block"
          aria-pressed={muted}
          disabled={busy}
          title={muted ? 'Show their messages again' : 'Hide their messages from your history and unread counts'}
          onClick={() => void toggleMute()}
        >
          {muted ? 'Unmute' : 'Mute'}
        </button>
      ) : null}
      {admin && userId !== me && loaded && outranks ? (
        <button type="button" className="app-button app-button--block" onClick={() => setRenaming(true)}>
          Edit name and title
        </button>
      ) : null}
      {admin && userId !== me && loaded && adminEditable(fields).length > 0 ? (
        <button type="button" className="app-button app-button--block" onClick={() => setEditing(true)}>
          Edit profile fields
        </button>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {renaming && loaded ? (
        <AdminNameDialog user={loaded} onSaved={setLoaded} onClose={() => setRenaming(false)} />
      ) : null}
      {editing && loaded && fields ? (
        <AdminFieldsDialog user={loaded} fields={fields} onSaved={setLoaded} onClose={() => setEditing(false)} />
      ) : null}
    </div>
  );
}

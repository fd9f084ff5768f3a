/**
 * Someone's profile (from the kit), with a button to message them directly and one to mute
 * or unmute them (their messages leave your history, search and unread counts).
 */
import { UserProfileCard, useChatClient, useMe } from '@parley/react';
import { useEffect, useState } from 'react';

export function ProfilePanel({
  userId,
  onOpenConversation,
}: {
  userId: string;
  onOpenConversation(cid: string): void;
}) {
  const client = useChatClient();
  const me = useMe();
  const [error, setError] = useState<string | null>(null);
  const [muted, setMuted] = useState(() => client.moderation.isMuted(userId));
  const [busy, setBusy] = useState(false);
  useEffect(() => setMuted(client.moderation.isMuted(userId)), [client, userId]);
  const message = async () => {
    try {
      const dm = client.channel('dm', { members: [userId] });
      await dm.createChannel();
      onOpenConversation(dm.cid);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const toggleMute = async () => {
    setError(null);
    setBusy(true);
    try {
      if (muted) await client.moderation.unmute(userId);
      else await client.moderation.mute(userId);
      setMuted(!muted);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="app-profile">
      <UserProfileCard userId={userId} className="app-profile__card" />
      {userId !== me ? (
        <>
          <button
            type="button"
            className="app-button app-button--primary app-button--block"
            onClick={() => void message()}
          >
            Message
          </button>
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
        </>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

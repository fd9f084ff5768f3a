/** Someone's profile (from the kit), with a button to message them directly. */
import { UserProfileCard, useChatClient, useMe } from '@parley/react';
import { useState } from 'react';

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
  const message = async () => {
    try {
      const dm = client.channel('dm', { members: [userId] });
      await dm.createChannel();
      onOpenConversation(dm.cid);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="app-profile">
      <UserProfileCard userId={userId} className="app-profile__card" />
      {userId !== me ? (
        <button
          type="button"
          className="app-button app-button--primary app-button--block"
          onClick={() => void message()}
        >
          Message
        </button>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

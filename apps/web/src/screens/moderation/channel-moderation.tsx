/**
 * A channel's moderation settings (capability `freeze-channel`): freeze, slow mode, and who may
 * react (the fields are shared with the admin console's Channels tab: moderation-fields.tsx).
 * Opened from the channel's options menu.
 */
import type { Channel } from '@parley/client';
import { useChannelState } from '@parley/react';
import { useState } from 'react';
import { Modal } from '../../components/modal.js';
import { type ModerationChange, ModerationFields } from './moderation-fields.js';

export function ChannelModeration({ channel, onClose }: { channel: Channel; onClose(): void }) {
  const state = useChannelState(channel);
  const c = state?.channel;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The answer lands in the client's state (Channel.update), which re-renders the fields.
  const change = (fields: ModerationChange) => {
    setError(null);
    setBusy(true);
    channel
      .update(fields)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  if (!c) return null;
  return (
    <Modal title="Moderation settings" subtitle={c.name ?? c.cid} onClose={onClose} size="small">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <ModerationFields settings={c} onChange={change} disabled={busy} />
    </Modal>
  );
}

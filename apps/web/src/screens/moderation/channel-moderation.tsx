/**
 * A channel's moderation settings (capability `freeze-channel`): freeze, slow mode, and who may
 * react; and its bans. Opened from the channel's options menu.
 */
import type { Channel } from '@parley/client';
import { useChannelState } from '@parley/react';
import { useState } from 'react';
import { Modal } from '../../components/modal.js';

const SLOW = [0, 5, 10, 30, 60, 300, 900, 3600];
const slowLabel = (s: number) => (s === 0 ? 'Off' : s < 60 ? `${s} seconds` : `${s / 60} minutes`);

export function ChannelModeration({ channel, onClose }: { channel: Channel; onClose(): void }) {
  const state = useChannelState(channel);
  const c = state?.channel;
  const [error, setError] = useState<string | null>(null);
  const change = (fields: Parameters<Channel['update']>[0]) => {
    setError(null);
    channel.update(fields).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  if (!c) return null;
  return (
    <Modal title="Moderation settings" subtitle={c.name ?? c.cid} onClose={onClose} size="small">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <label className="app-field app-row">
        <input
          type="checkbox"
          checked={!!c.frozen}
          onChange={(e) => change({ frozen: e.target.checked })}
          data-testid="freeze-channel"
        />
        <span>Freeze the channel: only moderators post</span>
      </label>
      <label className="app-field">
        <span className="app-field__label">Slow mode: one message per member every</span>
        <select
          className="app-input"
          value={c.slow_mode_s ?? 0}
          onChange={(e) => change({ slow_mode_s: Number(e.target.value) })}
          data-testid="slow-mode"
        >
          {SLOW.map((s) => (
            <option key={s} value={s}>
              {slowLabel(s)}
            </option>
          ))}
        </select>
      </label>
      <label className="app-field">
        <span className="app-field__label">Who may react</span>
        <select
          className="app-input"
          value={c.reactions ?? 'members'}
          onChange={(e) => change({ reactions: e.target.value as 'members' | 'open' })}
        >
          <option value="members">Members</option>
          <option value="open">Anyone who can see the channel</option>
        </select>
      </label>
    </Modal>
  );
}

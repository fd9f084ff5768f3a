/**
 * A channel's moderation settings as form fields — freeze, slow mode, who may react — shared by
 * the channel's own "Moderation settings" dialog and the admin console's Channels tab, so both
 * offer the same settings and send the same call (`PATCH /v1/channels/{cid}` through
 * `Channel.update`). The fields are controlled: the caller holds the channel and applies the
 * answer, so each place shows what the server stored, never an optimistic guess.
 */
import type { Channel as ChatChannel } from '@parley/client';
import type { Channel } from '@parley/protocol';

/** The settings these fields edit (all of a channel's moderation settings). */
export type ModerationSettings = Pick<Channel, 'frozen' | 'slow_mode_s' | 'reactions'>;
export type ModerationChange = Partial<Pick<Parameters<ChatChannel['update']>[0], keyof ModerationSettings>>;

/** The slow mode choices, in seconds (the server takes 0–3600). */
export const SLOW_MODE_STEPS = [0, 5, 10, 30, 60, 300, 900, 3600] as const;
export const slowModeLabel = (s: number) =>
  s === 0 ? 'Off' : s % 60 !== 0 ? `${s} seconds` : s === 60 ? '1 minute' : `${s / 60} minutes`;

export function ModerationFields({
  settings,
  onChange,
  disabled = false,
  compact = false,
  channelName,
}: {
  settings: ModerationSettings;
  onChange(change: ModerationChange): void;
  /** While a change is on its way: one at a time, so answers never arrive out of order. */
  disabled?: boolean;
  /** Short labels side by side (a row of a list) instead of a form's full sentences. */
  compact?: boolean;
  /** Names the controls ("Freeze Support") where several channels' fields share a screen. */
  channelName?: string;
}) {
  const of = (what: string) => (channelName ? `${what} of ${channelName}` : undefined);
  return (
    <div className={compact ? 'app-moderation-fields app-moderation-fields--compact' : 'app-moderation-fields'}>
      <label className="app-field app-row">
        <input
          type="checkbox"
          checked={!!settings.frozen}
          disabled={disabled}
          aria-label={channelName ? `Freeze ${channelName}` : undefined}
          onChange={(e) => onChange({ frozen: e.target.checked })}
          data-testid="freeze-channel"
        />
        <span>{compact ? 'Frozen' : 'Freeze the channel: only moderators post'}</span>
      </label>
      <label className="app-field">
        <span className="app-field__label">{compact ? 'Slow mode' : 'Slow mode: one message per member every'}</span>
        <select
          className="app-input"
          value={settings.slow_mode_s ?? 0}
          disabled={disabled}
          aria-label={of('Slow mode')}
          onChange={(e) => onChange({ slow_mode_s: Number(e.target.value) })}
          data-testid="slow-mode"
        >
          {/* A value set elsewhere (the API takes any 0–3600) is shown as it is. */}
          {[...new Set([...SLOW_MODE_STEPS, settings.slow_mode_s ?? 0])]
            .sort((a, b) => a - b)
            .map((s) => (
              <option key={s} value={s}>
                {slowModeLabel(s)}
              </option>
            ))}
        </select>
      </label>
      <label className="app-field">
        <span className="app-field__label">{compact ? 'Reactions' : 'Who may react'}</span>
        <select
          className="app-input"
          value={settings.reactions ?? 'members'}
          disabled={disabled}
          aria-label={of('Reactions')}
          onChange={(e) => onChange({ reactions: e.target.value as 'members' | 'open' })}
          data-testid="reactions-policy"
        >
          <option value="members">Members</option>
          <option value="open">Anyone who can see the channel</option>
        </select>
      </label>
    </div>
  );
}

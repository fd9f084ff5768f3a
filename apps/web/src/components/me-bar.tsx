/**
 * The bottom of the sidebar: you, your presence and custom status, and a menu to set a
 * status, go away (or come back), open preferences or sign out.
 */
import { Avatar, PresenceDot, useChatClient, useClientState } from '@parley/react';
import { useEffect, useState } from 'react';
import { leave, useAccount } from '../hooks/account.js';
import { useMeUser } from '../hooks/use-me.js';
import { Menu } from './menu.js';
import type { DialogName } from './shell-types.js';

const AWAY_KEY = 'parley:away';
function readAway(): boolean {
  try {
    return localStorage.getItem(AWAY_KEY) === '1';
  } catch {
    return false;
  }
}
function writeAway(away: boolean): void {
  try {
    if (away) localStorage.setItem(AWAY_KEY, '1');
    else localStorage.removeItem(AWAY_KEY);
  } catch {}
}

export function MeBar({ onDialog }: { onDialog(d: DialogName): void }) {
  const client = useChatClient();
  const me = useMeUser();
  const { signOut } = useAccount();
  // The server does not echo your own presence back, and a new connection starts online:
  // remember the choice (per browser), and set it again after each start.
  const [away, setAway] = useState(readAway);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (readAway()) client.setPresence('away').catch(() => setAway(false));
  }, [client]);
  // Busy (do not disturb) comes from the server: chosen here, or paused notifications, or a DND
  // window; your own connections hear every change of it.
  const shown = useClientState((s) => (me ? s.users[me.id]?.presence : undefined));
  if (!me) return null;
  const busy = shown === 'busy';
  const presence = busy ? 'busy' : away ? 'away' : 'online';
  const toggleBusy = () => {
    setError(null);
    (busy
      ? client.setPresence(away ? 'away' : 'online')
      : client.setPresence('busy', { until: new Date(Date.now() + 60 * 60_000) })
    ).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };

  const togglePresence = () => {
    const next = away ? 'online' : 'away';
    setError(null);
    client
      .setPresence(next)
      .then(() => {
        setAway(next === 'away');
        writeAway(next === 'away');
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };

  const status = me.status?.text ? `${me.status.emoji ? `${me.status.emoji} ` : ''}${me.status.text}` : null;
  return (
    <div className="app-me">
      <Menu
        placement="above"
        className="app-me__menu"
        triggerClassName="app-me__button"
        label={`${me.name}, ${presence === 'busy' ? 'do not disturb' : presence === 'away' ? 'away' : 'active'}. Open your menu`}
        trigger={
          <>
            <span className="app-avatar-with-dot">
              <Avatar user={me} id={me.id} size={32} />
              <PresenceDot presence={presence} className="app-avatar-with-dot__dot" />
            </span>
            <span className="app-me__text">
              <span className="app-me__name">{me.name}</span>
              <span className="app-me__status" data-testid="my-status">
                {status ?? (presence === 'busy' ? 'Do not disturb' : presence === 'away' ? 'Away' : 'Active')}
              </span>
            </span>
          </>
        }
        header={
          <div className="app-menu__me">
            <Avatar user={me} id={me.id} size={40} />
            <div>
              <strong>{me.name}</strong>
              {me.username ? <div className="app-muted">@{me.username}</div> : null}
            </div>
          </div>
        }
        items={[
          {
            label: status ? 'Edit status' : 'Set a status',
            hint: status ?? undefined,
            onSelect: () => onDialog('status'),
          },
          {
            label: away ? 'Set yourself as active' : 'Set yourself as away',
            onSelect: togglePresence,
          },
          { label: 'Edit profile', onSelect: () => onDialog('profile') },
          {
            label: busy ? 'Turn off do not disturb' : 'Do not disturb for 1 hour',
            hint: busy ? undefined : 'Busy: notifications pause',
            onSelect: toggleBusy,
          },
          'separator',
          { label: 'Notifications', onSelect: () => onDialog('notifications') },
          { label: 'Preferences', onSelect: () => onDialog('settings') },
          { label: 'Sign out', onSelect: () => void leave(client, signOut), danger: true },
        ]}
      />
      {error ? (
        <p className="app-me__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

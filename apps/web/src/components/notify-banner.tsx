/**
 * "Enable desktop notifications": the one place the web app asks for the permission, when the
 * user clicks — never on load. Hidden once answered, or for good after "Not now".
 */
import { useChatClient } from '@parley/react';
import { useState } from 'react';
import { enableDesktopNotifications, permission } from '../lib/desktop-notify.js';
import { usePhoneLayout } from '../lib/layout.js';

const DISMISSED = 'parley.notify-banner.dismissed';

export function NotifyBanner({ workspaceId }: { workspaceId: string }) {
  const client = useChatClient();
  const phone = usePhoneLayout();
  const [shown, setShown] = useState(() => permission() === 'default' && !localStorage.getItem(DISMISSED));
  if (!shown) return null;
  return (
    <div className="app-banner app-banner--action" role="status" data-testid="notify-banner">
      <span>
        {phone
          ? 'Get notified of mentions and direct messages.'
          : 'Get notified about mentions and direct messages while Parley is in the background.'}
      </span>
      <button
        type="button"
        className="app-button app-button--primary app-button--small"
        onClick={() => {
          void enableDesktopNotifications(client, workspaceId).finally(() => setShown(false));
        }}
      >
        {phone ? 'Turn on notifications' : 'Enable desktop notifications'}
      </button>
      <button
        type="button"
        className="app-button app-button--ghost app-button--small"
        onClick={() => {
          localStorage.setItem(DISMISSED, '1');
          setShown(false);
        }}
      >
        Not now
      </button>
    </div>
  );
}

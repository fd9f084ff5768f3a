/**
 * For guests: a strip that says what a guest is, until when they can post, and — once that
 * time has passed (the server's `guest.updated` says so, or the clock at load) — that they can
 * read but not post. An admin extending it takes the strip back to the first state, live.
 */
import type { Workspace } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useEffect, useState } from 'react';

export function GuestBanner({ workspace }: { workspace: Workspace }) {
  const client = useChatClient();
  const [until, setUntil] = useState(workspace.guest_expires_at);
  const [locked, setLocked] = useState(() => !!until && Date.parse(until) <= Date.now());
  useEffect(
    () =>
      client.on('guest.updated', (e) => {
        setUntil(e.guest_expires_at);
        setLocked(e.locked);
      }),
    [client],
  );
  if (workspace.role !== 'guest' || !until) return null;
  const day = new Date(until).toLocaleDateString(undefined, { dateStyle: 'medium' });
  return (
    <div className={`app-banner${locked ? ' app-banner--warning' : ''}`} role="status" data-testid="guest-banner">
      {locked
        ? `Your guest access ended on ${day}: you can still read, but not post. Ask an admin of ${workspace.name} to extend it.`
        : `You are a guest in ${workspace.name}: you see only the channels you were invited to, and can post until ${day}.`}
    </div>
  );
}

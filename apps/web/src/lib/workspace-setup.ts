/**
 * What the web app does once connected to a workspace, before showing it: give the user a
 * username if they have none (accounts have only a display name, and @mentions resolve by
 * username), load the channel list, and on a first visit join #general — creating it when the
 * workspace is brand new.
 */
import { type ChatClient, ParleyError } from '@parley/client';
import { usernameFrom } from './names.js';

export const GENERAL_CID = 'public:general';

async function ensureUsername(client: ChatClient): Promise<void> {
  const user = client.state.get().user;
  if (!user || user.username) return;
  const base = usernameFrom(user.name || 'user');
  for (let attempt = 0; attempt < 6; attempt++) {
    const candidate = attempt === 0 ? base : `${base}${Math.floor(10 + Math.random() * (attempt < 3 ? 90 : 9990))}`;
    try {
      await client.updateMe({ username: candidate });
      return;
    } catch (e) {
      if (!(e instanceof ParleyError) || e.code !== 'CONFLICT') throw e;
    }
  }
}

async function joinGeneral(client: ChatClient): Promise<void> {
  const general = client.channel('public', 'general');
  try {
    await general.join();
  } catch (e) {
    if (!(e instanceof ParleyError) || e.code !== 'NOT_FOUND') throw e;
    try {
      await general.createChannel({ name: 'general', topic: 'Announcements and conversations for everyone' });
    } catch (err) {
      // Someone else created it in between: join theirs.
      if (!(err instanceof ParleyError) || err.code !== 'CONFLICT') throw err;
      await general.join();
    }
  }
}

/** Prepare a freshly connected client (see the module comment). */
export async function setUpWorkspace(client: ChatClient): Promise<void> {
  await Promise.all([
    ensureUsername(client).catch((e: unknown) => console.warn('Could not pick a username', e)),
    client.queryChannels({}, [{ field: 'last_message_at', direction: -1 }], { limit: 100 }),
    // Everyone's presence now (live changes arrive from then on for people you share a channel with).
    client.queryUsers('', 200).catch(() => []),
  ]);
  // Not fatal: a workspace whose #general is archived or private still opens, just empty.
  if (client.state.get().channelList.length === 0)
    await joinGeneral(client).catch((e: unknown) => console.warn('Could not join #general', e));
}

const lastKey = (workspaceId: string) => `parley:last-channel:${workspaceId}`;

/** The conversation to open when none is named: the last one viewed, else #general, else the most recent. */
export function defaultConversation(client: ChatClient, workspaceId: string): string | null {
  const list = client.state.get().channelList;
  let last: string | null = null;
  try {
    last = localStorage.getItem(lastKey(workspaceId));
  } catch {}
  if (last && list.includes(last)) return last;
  if (list.includes(GENERAL_CID)) return GENERAL_CID;
  return list[0] ?? null;
}

export function rememberConversation(workspaceId: string, cid: string): void {
  try {
    localStorage.setItem(lastKey(workspaceId), cid);
  } catch {}
}

/**
 * What the web app does once connected to a workspace, before showing it: give the user a
 * username if they have none (accounts have only a display name, and @mentions resolve by
 * username), load the channel list, and on a first visit join #general — creating it when the
 * workspace is brand new.
 */
import { type ChatClient, isRetryable, ParleyError, retrying } from '@parley/client';
import type { WorkspaceRole } from '@parley/protocol';
import { usernameFrom } from './names.js';

export const GENERAL_CID = 'public:general';
const GENERAL_TOPIC = 'Announcements and conversations for everyone';

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

/**
 * Join #general, or create it. Which is tried first depends on who is asking: the owner of a
 * workspace with no channels is almost always looking at a brand-new workspace, where #general
 * does not exist yet; anyone else joined an existing one. Trying the likely call first means a
 * normal visit makes no request that fails (a failed request shows as an error in the console).
 */
async function joinGeneral(client: ChatClient, role: WorkspaceRole): Promise<void> {
  const general = client.channel('public', 'general');
  if (role === 'owner') {
    try {
      await general.createChannel({ name: 'general', topic: GENERAL_TOPIC });
      return;
    } catch (err) {
      if (!(err instanceof ParleyError) || err.code !== 'CONFLICT') throw err;
    }
    await general.join();
    return;
  }
  try {
    await general.join();
  } catch (e) {
    if (!(e instanceof ParleyError) || e.code !== 'NOT_FOUND') throw e;
    try {
      await general.createChannel({ name: 'general', topic: GENERAL_TOPIC });
    } catch (err) {
      // Someone else created it in between: join theirs.
      if (!(err instanceof ParleyError) || err.code !== 'CONFLICT') throw err;
      await general.join();
    }
  }
}

/**
 * A step lost on the network (a phone changing networks as the workspace opens) is tried twice
 * more, after 1 and 2 s, before the workspace shows without it; the next visit tries it again.
 */
function withRetries(step: () => Promise<void>): Promise<void> {
  let failures = 0;
  return retrying(step, { retryable: (e) => isRetryable(e) && ++failures < 3 });
}

/** Prepare a freshly connected client (see the module comment). */
export async function setUpWorkspace(client: ChatClient, role: WorkspaceRole): Promise<void> {
  await Promise.all([
    withRetries(() => ensureUsername(client)).catch((e: unknown) => console.warn('Could not pick a username', e)),
    client.queryChannels({}, [{ field: 'last_message_at', direction: -1 }], { limit: 100 }),
    // Everyone's presence now (live changes arrive from then on for people you share a channel with).
    client.queryUsers('', 200).catch(() => []),
  ]);
  // Not fatal: a workspace whose #general is archived or private still opens, just empty.
  // Guests join nothing themselves: they have the channels they were invited to.
  if (role !== 'guest' && client.state.get().channelList.length === 0)
    await withRetries(() => joinGeneral(client, role)).catch((e: unknown) =>
      console.warn('Could not join #general', e),
    );
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

/**
 * Members of DMs, for naming them in the channel list. A channel list entry (from
 * `queryChannels`) carries no members, so a DM that was neither created nor watched in this
 * session has no one to be named after. Until the SDK returns DM members with the list, this
 * fetches `GET /v1/channels/{cid}` once per DM through the client's REST helper, and looks
 * the peers up with `client.queryUsers` so their presence is in the client's state (and is
 * kept current there by `presence.changed` events).
 */
import type { ChatClient } from '@parley/client';
import type { ChannelResponse, Member } from '@parley/protocol';
import { useEffect, useState } from 'react';

const fetched = new WeakMap<ChatClient, Map<string, Promise<Member[]>>>();
const looked = new WeakMap<ChatClient, Set<string>>();

function membersOf(client: ChatClient, cid: string): Promise<Member[]> {
  let byCid = fetched.get(client);
  if (!byCid) {
    byCid = new Map();
    fetched.set(client, byCid);
  }
  let p = byCid.get(cid);
  if (!p) {
    p = client.http
      .call<ChannelResponse>('GET', `/v1/channels/${cid}`)
      .then((r) => r.members)
      .catch((e: unknown) => {
        byCid.delete(cid); // try again on the next render that needs it
        throw e;
      });
    byCid.set(cid, p);
  }
  return p;
}

function lookUpPresence(client: ChatClient, members: Member[]): void {
  let done = looked.get(client);
  if (!done) {
    done = new Set();
    looked.set(client, done);
  }
  const state = client.state.get();
  for (const m of members) {
    if (m.user_id === state.user?.id || done.has(m.user_id) || state.users[m.user_id]?.presence) continue;
    done.add(m.user_id);
    const q = m.user?.username ?? m.user?.name ?? m.user_id;
    client.queryUsers(q, 10).catch(() => {
      done.delete(m.user_id);
    });
  }
}

/** Members of the given DMs (those not yet known), fetched once per client and cid. */
export function useDmMembers(client: ChatClient, cids: readonly string[]): Readonly<Record<string, Member[]>> {
  const [members, setMembers] = useState<Record<string, Member[]>>({});
  const wanted = cids.join(' ');
  useEffect(() => {
    let cancelled = false;
    for (const cid of wanted ? wanted.split(' ') : []) {
      membersOf(client, cid)
        .then((list) => {
          lookUpPresence(client, list);
          if (!cancelled) setMembers((cur) => (cur[cid] ? cur : { ...cur, [cid]: list }));
        })
        .catch(() => {
          // the row keeps its fallback name
        });
    }
    return () => {
      cancelled = true;
    };
  }, [client, wanted]);
  return members;
}
